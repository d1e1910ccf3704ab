// etiquette review: play from a word or a finding, highlight the word being spoken, and submit the
// filters as they change. The pages work without it (forms, links); this adds what needs a player.
"use strict";
(() => {
  const player = document.getElementById("player");

  // Filters: a changed choice shows its calls at once (the Show button does the same without script).
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    for (const field of form.querySelectorAll("select, input[type=date]")) {
      field.addEventListener("change", () => form.requestSubmit());
    }
  }
  if (!player) return;

  const words = Array.from(document.querySelectorAll(".w[data-s]"));
  const starts = words.map((word) => parseFloat(word.dataset.s));
  const ends = words.map((word) => parseFloat(word.dataset.e));
  let current = null;

  function playFrom(seconds) {
    player.currentTime = Math.max(0, seconds);
    player.play().catch(() => {}); // a browser that refuses to autoplay still moved the player there
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-play], .w[data-s]");
    if (!target) return;
    event.preventDefault();
    playFrom(parseFloat(target.dataset.play ?? target.dataset.s));
  });

  // The word being spoken: the last one started by now, while it lasts (a little after, for short words).
  function wordAt(time) {
    let low = 0, high = starts.length - 1, found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[middle] <= time) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return found >= 0 && time <= ends[found] + 0.3 ? words[found] : null;
  }

  function highlight() {
    const word = wordAt(player.currentTime);
    if (word !== current) {
      if (current) current.classList.remove("now");
      if (word) {
        word.classList.add("now");
        const box = word.getBoundingClientRect();
        if (box.top < 80 || box.bottom > window.innerHeight) word.scrollIntoView({ block: "center" });
      }
      current = word;
    }
    if (!player.paused) requestAnimationFrame(highlight);
  }

  if (words.length) {
    const transcript = document.querySelector("details.transcript");
    player.addEventListener("play", () => {
      if (transcript) transcript.open = true;
      requestAnimationFrame(highlight);
    });
    player.addEventListener("seeked", highlight);
  }
})();
