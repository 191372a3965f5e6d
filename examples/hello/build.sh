#!/bin/sh
# The sample app's build: runs in the build sandbox (offline) or CodeBuild, from the source's root.
# It writes the site into dist/, stamping the source ref and build time, and checks the result.
set -eu
rm -rf dist
mkdir -p dist
sed -e "s/BUILD_TIME/$(date -u +%Y-%m-%dT%H:%M:%SZ)/" -e "s/BUILD_REF/${BULKHEAD_SOURCE_REF:-unknown}/" index.html > dist/index.html
echo "built dist/index.html for source ${BULKHEAD_SOURCE_REF:-unknown} of app ${BULKHEAD_APP:-unknown}"
grep -q "Hello from Bulkhead" dist/index.html
