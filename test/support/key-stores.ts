import type { KeyStore } from "../../packages/core/src/key-stores/key-store.ts";

/** A key store that behaves like `base` except for the methods given. */
export function overriding(base: KeyStore, overrides: Partial<KeyStore>): KeyStore {
  return new Proxy(base, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property as keyof KeyStore];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
