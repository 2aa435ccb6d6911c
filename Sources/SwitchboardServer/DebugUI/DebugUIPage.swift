/// The debug UI's one HTML page and its style sheet, served from the binary as they are (no build step, nothing
/// fetched from elsewhere). The script is `DebugUIScript`.
enum DebugUIPage {
    static let html = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Switchboard debug</title>
    <link rel="stylesheet" href="/ui.css">
    </head>
    <body>
    <header>
      <strong>Switchboard</strong> <span id="version"></span>
      <span id="whoami"></span>
      <button id="logout" hidden>Log out</button>
    </header>
    <section id="login-view">
      <h1>Log in</h1>
      <form id="login-form">
        <label>User <input id="login-user" autocomplete="username"></label>
        <label>Password <input id="login-password" type="password" autocomplete="current-password"></label>
        <label>One-time code <input id="login-otp" inputmode="numeric" autocomplete="one-time-code" placeholder="if the account has two-factor login"></label>
        <p class="or">or</p>
        <label>API key <input id="login-key" type="password" autocomplete="off"></label>
        <button id="login-button" type="submit">Log in</button>
        <p id="login-error" class="error" role="alert"></p>
      </form>
    </section>
    <section id="app-view" hidden>
      <nav>
        <button data-page="methods" class="active">Methods</button>
        <button data-page="events">Events</button>
        <button data-page="jobs">Jobs</button>
        <button data-page="daemon">Daemon</button>
        <button data-page="frames">Frames</button>
      </nav>
      <div id="page-methods" class="page">
        <div class="split">
          <aside>
            <input id="method-search" type="search" placeholder="Search methods" aria-label="Search methods">
            <ul id="method-list"></ul>
          </aside>
          <article id="method-detail"><p class="hint">Choose a method.</p></article>
        </div>
      </div>
      <div id="page-events" class="page" hidden>
        <form id="subscribe-form" class="row">
          <input id="event-name" placeholder="event name, prefix.* or *" aria-label="Event name">
          <button type="submit">Subscribe</button>
        </form>
        <ul id="subscriptions"></ul>
        <div class="row">
          <input id="event-filter" type="search" placeholder="Filter" aria-label="Filter events">
          <button id="event-pause">Pause</button>
          <button id="event-clear">Clear</button>
        </div>
        <ol id="event-list" class="log"></ol>
      </div>
      <div id="page-jobs" class="page" hidden>
        <div class="row"><button id="jobs-refresh">Refresh</button></div>
        <table id="job-table"><thead><tr><th>id</th><th>method</th><th>state</th><th>progress</th><th></th></tr></thead>
        <tbody id="job-list"></tbody></table>
        <pre id="job-detail" class="output"></pre>
        <h2>Dispatcher queues</h2>
        <div id="queues"></div>
      </div>
      <div id="page-daemon" class="page" hidden>
        <div class="row"><button id="daemon-refresh">Refresh</button></div>
        <h2>Plugins</h2><div id="plugins"></div>
        <h2>Workers</h2><div id="workers"></div>
        <h2>Sessions</h2><div id="sessions"></div>
      </div>
      <div id="page-frames" class="page" hidden>
        <div class="row"><button id="frames-pause">Pause</button> <button id="frames-clear">Clear</button>
        <span class="hint">This page's own WebSocket frames, newest last.</span></div>
        <ol id="frame-list" class="log"></ol>
      </div>
    </section>
    <script src="/ui.js"></script>
    </body>
    </html>
    """#

    static let css = #"""
    *{box-sizing:border-box}
    body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1d1d1f;background:#f6f7f9}
    header{display:flex;gap:1em;align-items:center;padding:.5em 1em;background:#22313f;color:#fff}
    header #whoami{margin-left:auto}
    button{font:inherit;padding:.3em .8em;border:1px solid #98a2ad;border-radius:4px;background:#fff;cursor:pointer}
    button:hover{background:#eef2f6}
    input,select,textarea{font:inherit;padding:.3em;border:1px solid #98a2ad;border-radius:4px;max-width:100%}
    #login-view{max-width:24em;margin:3em auto;padding:1em;background:#fff;border-radius:6px}
    #login-form label{display:block;margin:.5em 0}
    #login-form input{width:100%}
    .or{text-align:center;color:#666;margin:.2em}
    .error,.field-error{color:#b00020}
    .field-error{font-size:.9em;display:block}
    nav{display:flex;flex-wrap:wrap;gap:.3em;padding:.5em 1em;background:#e3e8ee}
    nav button.active{background:#22313f;color:#fff}
    .page{padding:1em}
    .split{display:flex;gap:1em}
    aside{flex:0 0 18em;max-height:80vh;overflow:auto}
    aside input{width:100%}
    #method-list{list-style:none;padding:0;margin:.5em 0}
    #method-list li{padding:.2em .4em;cursor:pointer;border-radius:3px;word-break:break-all}
    #method-list li:hover,#method-list li.selected{background:#dde6f0}
    article{flex:1;min-width:0}
    .flags span{display:inline-block;margin-right:.4em;padding:0 .4em;border-radius:3px;background:#e3e8ee;font-size:.85em}
    fieldset{border:1px solid #c9d1da;border-radius:4px;margin:.3em 0;padding:.4em .6em}
    .field{margin:.3em 0}
    .field>label{font-weight:600;margin-right:.5em}
    .output,pre{background:#fff;border:1px solid #d5dbe1;padding:.5em;overflow:auto;max-height:40vh;white-space:pre-wrap;word-break:break-all}
    .row{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;margin:.5em 0}
    .log{font-family:ui-monospace,monospace;font-size:12px;background:#fff;border:1px solid #d5dbe1;max-height:60vh;overflow:auto;padding-left:3em}
    .log li{border-bottom:1px solid #eee;word-break:break-all}
    .log li.out{color:#1f4e99}
    table{border-collapse:collapse;width:100%;background:#fff}
    td,th{border-bottom:1px solid #e0e4e8;padding:.3em;text-align:left}
    progress{width:8em}
    .hint{color:#666}
    textarea{width:100%;min-height:6em;font-family:ui-monospace,monospace}
    @media (max-width:700px){.split{flex-direction:column}aside{flex:none;max-height:30vh}header{flex-wrap:wrap}}
    """#
}
