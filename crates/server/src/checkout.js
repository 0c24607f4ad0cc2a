// amzpay's stand-in for Amazon Pay's checkout.js: the same amazon.Pay.renderButton call, so a
// merchant's page switches by changing one script URL. A click posts the button's
// createCheckoutSessionConfig to amzpay, which checks the signature, creates the Checkout
// Session and sends the buyer to the sandbox sign-in page.
(function () {
  'use strict';
  var script = document.currentScript;
  var origin = script ? new URL(script.src, window.location.href).origin : window.location.origin;

  var colors = {
    Gold: { background: '#ffd814', color: '#0f1111', border: '#fcd200' },
    LightGray: { background: '#f0f2f2', color: '#0f1111', border: '#d5d9d9' },
    DarkGray: { background: '#232f3e', color: '#ffffff', border: '#232f3e' }
  };

  function field(form, name, value) {
    if (value === undefined || value === null) return;
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = typeof value === 'string' ? value : JSON.stringify(value);
    form.appendChild(input);
  }

  function renderButton(selector, options) {
    var target = typeof selector === 'string' ? document.querySelector(selector) : selector;
    if (!target) throw new Error('amazon.Pay.renderButton: no element matches ' + selector);
    options = options || {};
    var config = options.createCheckoutSessionConfig || {};
    var palette = colors[options.buttonColor] || colors.Gold;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'amazonpay-button';
    button.setAttribute('aria-label', 'Pay with Amazon Pay');
    button.textContent = 'amazon pay';
    button.style.cssText = 'font: 600 18px system-ui, sans-serif; padding: 10px 28px; border-radius: 8px; cursor: pointer;' +
      'background:' + palette.background + ';color:' + palette.color + ';border:1px solid ' + palette.border + ';';
    button.addEventListener('click', function () {
      var form = document.createElement('form');
      form.method = 'POST';
      form.action = origin + '/checkout/button';
      field(form, 'payloadJSON', config.payloadJSON);
      field(form, 'signature', config.signature);
      field(form, 'publicKeyId', config.publicKeyId);
      field(form, 'algorithm', config.algorithm);
      field(form, 'sandbox', String(options.sandbox !== false));
      field(form, 'merchantId', options.merchantId);
      document.body.appendChild(form);
      form.submit();
    });
    target.appendChild(button);
    return button;
  }

  window.amazon = window.amazon || {};
  window.amazon.Pay = window.amazon.Pay || {};
  window.amazon.Pay.renderButton = renderButton;
})();
