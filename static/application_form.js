// Create application: show the redirect URL only for public apps and the dedicated user only for private ones
// (seed 001's requirements table); with no type chosen yet, both.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("application-form");
  if (!form) return;
  const update = () => {
    const chosen = form.querySelector("input[name=kind]:checked");
    form.querySelectorAll(".for-kind").forEach((group) => {
      group.hidden = chosen !== null && group.dataset.kind !== chosen.value;
    });
  };
  form.querySelectorAll("input[name=kind]").forEach((radio) => radio.addEventListener("change", update));
  update();
});
