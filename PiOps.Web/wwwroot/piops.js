// Saves text as a file: what the Logs page shows, as shown.
window.piopsDownload = (name, text) => {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
};

// Keeps a log pane at its newest line while following, as `kubectl logs -f`, k9s and Headlamp do. A scroll up by the
// user (wheel, touch, keys, scrollbar) pauses following and tells the page; scrolling back to the end resumes it.
// Scrolls the pane makes itself, or that the virtualised list causes as it grows, are not the user's and change nothing.
window.piopsLogFollow = {
    attach(el, page) {
        let intent = 0;
        let following = true;
        const mark = () => { intent = Date.now(); };
        for (const name of ["wheel", "touchstart", "pointerdown", "keydown"]) {
            el.addEventListener(name, mark, { passive: true });
        }
        const atEnd = () => el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        const pin = () => { if (following) { el.scrollTop = el.scrollHeight; } };
        el.addEventListener("scroll", () => {
            if (Date.now() - intent > 1500) {
                return;
            }
            const end = atEnd();
            if (following && !end) {
                following = false;
                page.invokeMethodAsync("ScrolledAway");
            } else if (!following && end) {
                following = true;
                page.invokeMethodAsync("ScrolledToEnd");
            }
        }, { passive: true });
        const observer = new MutationObserver(pin);
        observer.observe(el, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["style"] });
        const resize = new ResizeObserver(pin);
        resize.observe(el);
        el.piopsFollow = (value) => { following = value; pin(); };
        el.piopsDetach = () => { observer.disconnect(); resize.disconnect(); };
        pin();
    },
    follow(el, value) {
        if (el && el.piopsFollow) {
            el.piopsFollow(value);
        }
    },
    detach(el) {
        if (el && el.piopsDetach) {
            el.piopsDetach();
        }
    },
};

// Brings a part of the page into view (the CronJob form below the table when a row's Edit is clicked).
window.piopsScrollIntoView = (selector) => {
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    document.querySelector(selector)?.scrollIntoView({ block: "start", behavior: reduce ? "auto" : "smooth" });
};

// The operator's light or dark choice, kept in this browser; nothing kept means following the system.
window.piopsTheme = {
    get() {
        try {
            const v = localStorage.getItem("piops.theme");
            return v === "light" || v === "dark" ? v : null;
        } catch {
            return null;
        }
    },
    set(v) {
        try {
            localStorage.setItem("piops.theme", v);
        } catch {
            // Storage off: the choice lasts for this page only.
        }
    },
};

// The browser's time zone (IANA name), and whether the operator chose to see times in UTC (kept in this browser).
window.piopsClock = {
    get() {
        let utc = false;
        try {
            utc = localStorage.getItem("piops.utc") === "1";
        } catch {
            // Storage off: local time.
        }
        return { zone: Intl.DateTimeFormat().resolvedOptions().timeZone || null, utc };
    },
    setUtc(value) {
        try {
            localStorage.setItem("piops.utc", value ? "1" : "0");
        } catch {
            // Storage off: the choice lasts for this page only.
        }
    },
};

// Snackbars show an action's outcome to the eye; the layout's polite live region says it (throttled, see
// LiveAnnouncer). MudBlazor marks each snackbar role="alert", which would say it a second time, and assertively.
window.piopsSnackbarsQuiet = new MutationObserver(records => {
    for (const record of records) {
        for (const node of record.addedNodes) {
            if (node instanceof Element) {
                for (const bar of node.matches(".mud-snackbar") ? [node] : node.querySelectorAll(".mud-snackbar")) {
                    bar.removeAttribute("role");
                    bar.removeAttribute("aria-live");
                }
            }
        }
    }
});
window.piopsSnackbarsQuiet.observe(document.body, { childList: true, subtree: true });

// A dialog gives focus back to what opened it when it closes (WCAG 2.4.3). MudBlazor traps focus inside an open dialog
// but leaves it on the page's body after, so a keyboard user would start again from the top. The opener may have been
// re-rendered or disabled meanwhile (a Job being re-created): then the control with the same test id and name takes
// focus once it is back and enabled, within 15 s (a running Job's pods take their grace period to go); failing that,
// the page's title does.
window.piopsDialogFocus = (() => {
    let opener = null;
    let key = [null, null];
    let wasOpen = false;
    let until = 0;
    const open = () => document.querySelector(".mud-dialog-container") !== null;
    const lost = () => !document.activeElement || document.activeElement === document.body;
    const usable = el => el && el.isConnected && !el.disabled && el.getAttribute("aria-disabled") !== "true";
    document.addEventListener("focusin", e => {
        if (e.target instanceof Element && !e.target.closest(".mud-dialog-container")) {
            opener = e.target;
            key = [e.target.getAttribute("data-testid"), e.target.getAttribute("aria-label")];
        }
    });
    const matches = el => el === opener || (key[0] && el.getAttribute("data-testid") === key[0] && el.getAttribute("aria-label") === key[1]);
    // Runs while "until" is set: for 15 s after a dialog closed, focus that falls to the body (the opener re-rendered,
    // or disabled while its action runs) goes back to the opener once it can take it.
    const restore = () => {
        if (!until) {
            return;
        }

        if (!lost()) {
            // Focus placed elsewhere, by the operator or the page, is never moved.
            if (!matches(document.activeElement)) {
                until = 0;
            }

            return;
        }

        let target = usable(opener) ? opener : null;
        if (!target && key[0]) {
            target = [...document.querySelectorAll(`[data-testid="${CSS.escape(key[0])}"]`)]
                .find(el => el.getAttribute("aria-label") === key[1] && usable(el)) ?? null;
        }

        if (!target && Date.now() > until) {
            target = document.querySelector("h1");
            until = 0;
        }

        target?.focus();
    };
    const observer = new MutationObserver(() => {
        if (open()) {
            wasOpen = true;
            until = 0;
            return;
        }

        if (wasOpen) {
            wasOpen = false;
            until = Date.now() + 15000;
        }

        restore();
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"] });
    // A page that stops changing still gets its title focused when the time is up.
    setInterval(() => {
        if (until && Date.now() > until && !lost()) {
            until = 0;
        }

        restore();
    }, 500);
    return observer;
})();

// Tab and Shift+Tab cycle through the open dialog's controls and never leave it (WCAG 2.1.2, 2.4.3). MudBlazor's own
// trap moves focus back from its edge markers by a round trip to the server, so a quick second Tab escaped to the page
// behind the dialog.
document.addEventListener("keydown", e => {
    if (e.key !== "Tab" || e.altKey || e.ctrlKey || e.metaKey) {
        return;
    }

    const dialogs = document.querySelectorAll(".mud-dialog-container .mud-dialog");
    const dialog = dialogs[dialogs.length - 1];
    if (!dialog) {
        return;
    }

    const controls = [...dialog.querySelectorAll("button, [href], input, select, textarea, [tabindex]")].filter(el => {
        if (el.disabled || el.tabIndex < 0 || el.closest("[inert], [aria-hidden=true]")) {
            return false;
        }

        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
    });
    if (controls.length === 0) {
        return;
    }

    const at = controls.indexOf(document.activeElement);
    const next = at < 0 ? (e.shiftKey ? controls.length - 1 : 0) : (at + (e.shiftKey ? -1 : 1) + controls.length) % controls.length;
    e.preventDefault();
    controls[next].focus();
}, true);

// The command palette: Ctrl+K (⌘K on a Mac) opens it from anywhere, text boxes included, as in most consoles. Its box
// keeps Tab and the arrow keys (the list is chosen with the arrows), and focus goes back where it was when it closes.
// What is typed between Ctrl+K and the box appearing (a round trip to the server, longer when it is busy) is kept and
// handed to the box, Enter included, so "Ctrl+K jobs Enter" typed in one go works.
window.piopsPalette = {
    listener: null,
    early: null,
    returnTo: null,
    typed: null,
    attach(component) {
        window.piopsPalette.detach();
        const palette = window.piopsPalette;
        const listener = (e) => {
            if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k") {
                e.preventDefault();
                if (!document.querySelector(".piops-palette")) {
                    palette.remember();
                    // Keys kept for 10 s at most, in case the box never comes (the server gone). The timer clears
                    // only its own buffer: an earlier opening's timer must not drop what is typed for this one.
                    const typed = { text: "", enter: false };
                    palette.typed = typed;
                    setTimeout(() => {
                        if (palette.typed === typed) {
                            palette.typed = null;
                        }
                    }, 10000);
                }
                component.invokeMethodAsync("Open");
            }
        };
        const early = (e) => {
            const typed = palette.typed;
            if (!typed || e.ctrlKey || e.metaKey || e.altKey || document.activeElement?.classList.contains("piops-palette-input")) {
                return;
            }
            if (e.key.length === 1) {
                typed.text += e.key;
            } else if (e.key === "Backspace") {
                typed.text = typed.text.slice(0, -1);
            } else if (e.key === "Enter") {
                typed.enter = true;
            } else if (e.key === "Escape") {
                palette.typed = null;
                return;
            } else {
                return;
            }
            e.preventDefault();
            e.stopPropagation();
        };
        document.addEventListener("keydown", listener);
        document.addEventListener("keydown", early, true);
        palette.listener = listener;
        palette.early = early;
        document.documentElement.dataset.palette = "ready";
    },
    detach() {
        const palette = window.piopsPalette;
        if (palette.listener) {
            document.removeEventListener("keydown", palette.listener);
            document.removeEventListener("keydown", palette.early, true);
            palette.listener = null;
            palette.early = null;
            delete document.documentElement.dataset.palette;
        }
    },
    remember() {
        window.piopsPalette.returnTo = document.activeElement;
    },
    focus(el) {
        if (!el) {
            return;
        }
        if (!el.piopsKeys) {
            el.piopsKeys = true;
            el.addEventListener("keydown", (e) => {
                if (e.key === "Tab" || e.key === "ArrowUp" || e.key === "ArrowDown") {
                    e.preventDefault();
                }
            });
        }
        el.focus();
        const typed = window.piopsPalette.typed;
        window.piopsPalette.typed = null;
        if (typed?.text) {
            el.value = typed.text;
            el.dispatchEvent(new Event("input", { bubbles: true }));
        }
        if (typed?.enter) {
            el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
        }
    },
    restore() {
        const to = window.piopsPalette.returnTo;
        window.piopsPalette.returnTo = null;
        if (to && document.contains(to)) {
            to.focus();
        }
    },
};

// k9s-style keys on live tables (those marked data-row-keys): with focus anywhere in a row (its name, or one of its
// buttons), a single key presses that row's button marked data-key="KEY", so a key does exactly what the click does,
// confirmation dialogs included. Keys typed into a field, a dialog or the palette are theirs.
// The element a single-key shortcut came from, or null when the key belongs to what has focus (a field, a dialog,
// the palette) or came with a modifier.
window.piopsShortcutTarget = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) {
        return null;
    }
    const from = e.target instanceof Element ? e.target : document.body;
    return from.closest("input, textarea, select, [contenteditable=true], .mud-dialog, .piops-palette") ? null : from;
};

document.addEventListener("keydown", (e) => {
    const from = window.piopsShortcutTarget(e);
    const row = from?.closest("[data-row-keys] tbody tr");
    const button = row?.querySelector(`[data-key="${CSS.escape(e.key.toLowerCase())}"]`);
    if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") {
        return;
    }
    e.preventDefault();
    button.click();
});

// "/" focuses the page's filter (the Logs filter, the Tasks id box), as in k9s, less and most consoles.
document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || !window.piopsShortcutTarget(e)) {
        return;
    }
    const filter = document.querySelector("input[data-page-filter]");
    if (filter) {
        e.preventDefault();
        filter.focus();
        filter.select();
    }
});
