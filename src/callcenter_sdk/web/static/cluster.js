// The cluster page: server-rendered; it reloads itself every third of the heartbeats' ttl,
// so a node that stops beating turns "down" on the screen without a click.
"use strict";

setTimeout(() => location.reload(), Math.max(1000, (CONFIG.ttl || 5) * 1000 / 3));
