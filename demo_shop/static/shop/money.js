// Amounts arrive as integers in Stripe's minor units: zero-decimal currencies (JPY, KRW, ...)
// are whole units, three-decimal ones (BHD, JOD, KWD, OMR, TND) thousandths, the others
// (ISK and UGX included) hundredths: the same lists as the server's catalog/money.py.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg",
    "rwf", "vnd", "vuv", "xaf", "xof", "xpf"]);
  const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

  function formatAmount(amount, currency) {
    const code = String(currency).toLowerCase();
    const places = ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
    const value = amount / 10 ** places;
    try {
      return new Intl.NumberFormat("en", {
        style: "currency",
        currency: code.toUpperCase(),
        minimumFractionDigits: places,
        maximumFractionDigits: places,
      }).format(value);
    } catch (error) {
      // A currency the browser does not know: still show the amount, never a blank.
      return `${value.toFixed(places)} ${code.toUpperCase()}`;
    }
  }

  Shop.money = { formatAmount };
})(window.Shop);
