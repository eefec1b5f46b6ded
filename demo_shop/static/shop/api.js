// The storefront API client: the token, Idempotency-Keys, and a check of every answer
// (status code, then the fields the page uses) before anything is shown from it.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const TOKEN_KEY = "shop.token";
  const EMAIL_KEY = "shop.email";
  const UNEXPECTED = "The shop answered something unexpected. Please try again later.";
  const REQUEST_TIMEOUT_MS = 15000;
  const UNREACHABLE = "The shop could not be reached. Check your connection and try again.";

  class ApiError extends Error {
    constructor(status, code, message, fields) {
      super(message);
      this.status = status;
      this.code = code;
      this.fields = fields || null;
    }

    // Worth retrying with the same Idempotency-Key: nothing was decided yet.
    get retryable() {
      return this.code === "network_error" || this.status === 429 || this.status >= 500
        || this.code === "idempotency_key_in_use";
    }
  }

  let apiUrl = "/api/v1/";

  function configure(url) {
    apiUrl = url;
  }

  const session = {
    token: () => sessionStorage.getItem(TOKEN_KEY),
    email: () => sessionStorage.getItem(EMAIL_KEY),
    signIn(token, email) {
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(EMAIL_KEY, email);
    },
    signOut() {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(EMAIL_KEY);
    },
  };

  function newIdempotencyKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // One user action (a click on "Place order", on "Pay ..."): one Idempotency-Key, reused when
  // that same action is retried after an answer that decided nothing (network error, 5xx,
  // 429, key still in flight), so a retry can never order or charge twice.
  class IdempotentAction {
    constructor() {
      this.key = null;
    }

    keyForAttempt() {
      if (!this.key) this.key = newIdempotencyKey();
      return this.key;
    }

    finished(error) {
      if (!(error instanceof ApiError && error.retryable)) this.key = null;
    }

    // call(key) makes the request; the key is dropped once the server has decided.
    async run(call) {
      const key = this.keyForAttempt();
      try {
        const answer = await call(key);
        this.finished();
        return answer;
      } catch (error) {
        this.finished(error);
        throw error;
      }
    }
  }

  function isErrorBody(body) {
    return body && typeof body === "object" && body.error && typeof body.error === "object"
      && typeof body.error.code === "string" && typeof body.error.message === "string";
  }

  async function readJson(response) {
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("application/json")) return undefined;
    try {
      return await response.json();
    } catch (error) {
      return undefined;
    }
  }

  // method, path (relative to /api/v1/), expected status; body and idempotencyKey optional.
  async function request(method, path, expectedStatus, { body, idempotencyKey } = {}) {
    const headers = { Accept: "application/json" };
    const token = session.token();
    if (token) headers.Authorization = `Token ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(apiUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // Token auth only: no session cookie, so no CSRF token is needed or leaked.
        credentials: "omit",
        cache: "no-store",
        // A hung request must not leave the page waiting forever (the order page polls on).
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ApiError(0, "network_error", UNREACHABLE);
    }
    if (response.status === expectedStatus) {
      return expectedStatus === 204 ? null : readJson(response);
    }
    const answer = await readJson(response);
    if (response.status === 401) session.signOut();
    if (response.ok) throw new ApiError(response.status, "unexpected_response", UNEXPECTED);
    if (isErrorBody(answer)) {
      throw new ApiError(response.status, answer.error.code, answer.error.message, answer.error.fields);
    }
    throw new ApiError(response.status, "unexpected_response",
      response.status >= 500 ? "The shop is having trouble. Please try again in a moment." : UNEXPECTED);
  }

  // Checks that `value` has each field with the given type before the page uses it.
  // Types: "string", "number" (a finite number), "array", "object", "string?" (or null).
  function expectShape(value, spec) {
    if (!value || typeof value !== "object") throw new ApiError(0, "unexpected_response", UNEXPECTED);
    for (const [name, type] of Object.entries(spec)) {
      const field = value[name];
      const ok = {
        string: () => typeof field === "string",
        "string?": () => field === null || typeof field === "string",
        number: () => typeof field === "number" && Number.isFinite(field),
        array: () => Array.isArray(field),
        object: () => field !== null && typeof field === "object" && !Array.isArray(field),
      }[type]();
      if (!ok) throw new ApiError(0, "unexpected_response", UNEXPECTED);
    }
    return value;
  }

  const SHAPES = {
    productPage: { count: "number", results: "array" },
    product: { id: "number", name: "string", unit_amount: "number", currency: "string",
      available_quantity: "number" },
    cart: { lines: "array", currency: "string?", subtotal: "number" },
    cartLine: { id: "number", product_id: "number", name: "string", unit_amount: "number",
      quantity: "number", line_total: "number" },
    order: { id: "number", number: "string", status: "string", currency: "string", lines: "array",
      total: "number" },
    orderLine: { name: "string", quantity: "number", line_total: "number" },
    paymentIntent: { payment_intent_id: "string", client_secret: "string",
      publishable_key: "string", amount: "number", currency: "string" },
    checkoutSession: { checkout_session_id: "string", url: "string" },
    token: { token: "string" },
  };

  function expectCart(cart) {
    expectShape(cart, SHAPES.cart);
    cart.lines.forEach((line) => expectShape(line, SHAPES.cartLine));
    return cart;
  }

  function expectOrder(order) {
    expectShape(order, SHAPES.order);
    order.lines.forEach((line) => expectShape(line, SHAPES.orderLine));
    return order;
  }

  Shop.api = {
    ApiError, IdempotentAction, configure, request, expectShape, expectCart, expectOrder,
    session, SHAPES,
  };
})(window.Shop);
