// What the room page (room.js) and the replay page (replay.js) build their nodes with. User text
// is only ever set with textContent (never innerHTML), so a comment can't carry markup or script.

export const $ = (id) => document.getElementById(id);

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// The question shown over the grid (#spotlight, templates/rooms/spotlight.html), or none.
export function showSpotlight(question) {
  $("spotlight").hidden = !question;
  if (!question) return;
  $("spotlight-asker").textContent = question.user ? `@${question.user.username}` : "";
  $("spotlight-text").textContent = question.text;
}
