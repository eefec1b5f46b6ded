// DOM helpers for the shop page. Text always goes in through textContent, never innerHTML:
// product names, e-mails and error messages are data, not markup.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  function byId(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error(`The page has no #${id}`);
    return node;
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function setStatus(text) {
    byId("status").textContent = text;
  }

  function showError(text) {
    const box = byId("error");
    box.textContent = text;
    box.hidden = false;
  }

  function clearError() {
    const box = byId("error");
    box.textContent = "";
    box.hidden = true;
  }

  Shop.dom = { byId, el, show, setStatus, showError, clearError };
})(window.Shop);
