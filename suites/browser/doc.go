// Package browser drives a headless Chromium over the DevTools protocol
// (with go-rod) for suitecheck's browser steps: it finds and launches the
// browser, or connects to a remote one, runs steps on one page whose session
// carries over between cases, watches the page for console errors, uncaught
// exceptions and failed requests, and saves a screenshot and the HTML of a
// failure with secrets masked.
//
// A launched Chromium never outlives the run: it runs in its own process
// group, dies with the process that launched it (even when that process is
// killed with SIGKILL), and Close kills whatever is left of it, crash
// handler included. Chromium never inherits the plugin's stdout or stderr,
// and it never downloads anything: Find only looks for an installed browser.
//
// Nothing here prints or exits. Step errors read like a line of a
// monitoring report and never show a value typed as secret.
package browser
