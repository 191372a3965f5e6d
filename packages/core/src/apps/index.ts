/**
 * The apps domain as the rest of the code uses it: an app's lifecycle (apps.ts) and the pages of
 * the listings scoped to one app (listing.ts). Both are light (DynamoDB, the audit chain, the
 * key store's lifecycle), so a handler that imports this file bundles nothing it does not reach.
 */
export { APP_LISTING_HEAD_TYPE, type AppChange, createApp, deleteApp, getApp, listApps, LIVE_APP, updateApp } from "./apps.ts";
export { appListingPage } from "./listing.ts";
