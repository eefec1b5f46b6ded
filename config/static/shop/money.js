// Amounts arrive as integers in minor units; zero-decimal currencies (JPY, KRW, ...) are
// whole units, the others have two decimals (the same list Stripe and the server use).
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg",
    "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);

  function formatAmount(amount, currency) {
    const code = String(currency).toLowerCase();
    const zeroDecimal = ZERO_DECIMAL.has(code);
    const value = zeroDecimal ? amount : amount / 100;
    try {
      return new Intl.NumberFormat("en", {
        style: "currency",
        currency: code.toUpperCase(),
        minimumFractionDigits: zeroDecimal ? 0 : 2,
        maximumFractionDigits: zeroDecimal ? 0 : 2,
      }).format(value);
    } catch (error) {
      // A currency the browser does not know: still show the amount, never a blank.
      return `${value.toFixed(zeroDecimal ? 0 : 2)} ${code.toUpperCase()}`;
    }
  }

  Shop.money = { formatAmount };
})(window.Shop);
