// The business portal's one script: the venue application's "use my
// location" button fills the latitude and longitude from the device's
// location. Without it (no script, no permission) the coordinates are
// typed, as the hint says.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("locate");
  const failed = document.getElementById("locate-failed");
  if (!button || !navigator.geolocation) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    failed.hidden = true;
    navigator.geolocation.getCurrentPosition((p) => {
      document.getElementById("lat").value = p.coords.latitude.toFixed(5);
      document.getElementById("lon").value = p.coords.longitude.toFixed(5);
      button.disabled = false;
    }, () => {
      failed.hidden = false;
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000 });
  });
});
