// Sign in, register and sign out. The API token lives in sessionStorage (this tab only,
// gone when it closes); every API call sends it as `Authorization: Token ...`.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const { byId, show, showError, clearError } = Shop.dom;
  const { request, expectShape, session, SHAPES } = Shop.api;

  function isSignedIn() {
    return Boolean(session.token());
  }

  function render() {
    const signedIn = isSignedIn();
    show(byId("account-bar"), signedIn);
    byId("signed-in-as").textContent = signedIn ? session.email() || "" : "";
    show(byId("sign-in"), !signedIn);
  }

  // "Password too short" and the like: the contract's `fields` carry the validators' words.
  function describe(error) {
    const details = [];
    if (error.fields && typeof error.fields === "object") {
      for (const messages of Object.values(error.fields)) {
        for (const message of [].concat(messages)) {
          if (typeof message === "string") details.push(message);
        }
      }
    }
    return [error.message, ...details].join(" ");
  }

  async function authenticate(register, onChange) {
    clearError();
    const email = byId("email").value.trim();
    const password = byId("password").value;
    if (!email || !password) {
      showError("Enter your e-mail and a password.");
      return;
    }
    const buttons = [byId("sign-in-button"), byId("register-button")];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      const answer = register
        ? await request("POST", "auth/register/", 201, { body: { email, password } })
        : await request("POST", "auth/token/", 200, { body: { email, password } });
      expectShape(answer, SHAPES.token);
      session.signIn(answer.token, email);
      byId("password").value = "";
      render();
      await onChange();
    } catch (error) {
      showError(error instanceof Shop.api.ApiError ? describe(error) : String(error.message));
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  }

  function start(onChange) {
    byId("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      authenticate(false, onChange);
    });
    byId("register-button").addEventListener("click", () => authenticate(true, onChange));
    byId("sign-out").addEventListener("click", () => {
      session.signOut();
      clearError();
      render();
      onChange();
    });
    render();
  }

  Shop.account = { start, render, isSignedIn };
})(window.Shop);
