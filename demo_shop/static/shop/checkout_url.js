// Where the page may send the shopper to pay. The server hands us a Checkout Session's
// `url`; we still refuse to follow anything but Stripe's hosted Checkout (or, offline, the
// configured emulator), so a tampered or buggy answer cannot send shoppers to a lookalike.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  // Pure: no DOM, no globals; tested in the browser through driver.execute_script.
  function isAllowedCheckoutUrl(url, emulatorOrigin) {
    if (typeof url !== "string") return false;
    let target;
    try {
      target = new URL(url);
    } catch (error) {
      return false;
    }
    if (target.username || target.password) return false;
    if (target.protocol === "https:" && target.hostname === "checkout.stripe.com" && target.port === "") {
      return true;
    }
    if (typeof emulatorOrigin !== "string" || emulatorOrigin === "") return false;
    let emulator;
    try {
      emulator = new URL(emulatorOrigin);
    } catch (error) {
      return false;
    }
    if (emulator.protocol !== "http:" && emulator.protocol !== "https:") return false;
    // The whole origin (scheme, host and port), not a string prefix: "http://127.0.0.1:1234"
    // must not accept "http://127.0.0.1:12345" or "http://127.0.0.1:1234.evil.example".
    return target.origin === emulator.origin;
  }

  Shop.checkoutUrl = { isAllowedCheckoutUrl };
})(window.Shop);
