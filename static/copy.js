// A Copy button on every code block (and on elements a `data-copy` button names): copies the text as shown.
(function () {
  function copy(text, button) {
    const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = button.dataset.label; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallback(text, done));
    } else {
      fallback(text, done);
    }
  }
  function fallback(text, done) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }
  function wire(button, target) {
    button.dataset.label = button.textContent;
    button.addEventListener("click", () => copy(target.textContent.trim(), button));
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("button[data-copy]").forEach((button) => {
      const target = document.querySelector(button.dataset.copy);
      if (target) wire(button, target);
    });
    document.querySelectorAll("pre").forEach((pre) => {
      if (pre.closest("[data-no-copy]") || document.querySelector(`button[data-copy="#${pre.id}"]`)) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "copy copy-block";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy this code");
      const wrapper = document.createElement("div");
      wrapper.className = "code-block";
      pre.parentNode.insertBefore(wrapper, pre);
      wrapper.appendChild(pre);
      wrapper.appendChild(button);
      wire(button, pre);
    });
  });
})();
