-- Headless Neovim (0.7.x API: no vim.lsp.start, no get_clients) as a plain LSP client of `debugbox lsp`.
--
-- Environment: LSP_CMD (JSON array: the server's argv), WORKDIR (a scratch folder), TARGET (a container reference
-- for debugbox.debugCommand; empty skips that part).
-- Stdout: one line per observation (DIAGNOSTIC, ACTION, APPLIED, LINE, ARGV, MESSAGE), then "OK".
-- Exit code 0 only when every check passed; on failure "FAIL: <why>" on stderr and exit 1.

local function out(s)
  io.stdout:write(s .. "\n")
end

local cmd, workdir
local target = os.getenv("TARGET") or ""

local diagnostics = {} -- uri -> list
local messages = {} -- window/showMessage texts

local function wait_for(what, ms, cond)
  if not vim.wait(ms, cond, 50) then
    error("timed out after " .. ms / 1000 .. "s waiting for " .. what)
  end
end

local function request(bufnr, method, params, ms)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, ms or 20000)
  assert(responses, method .. ": " .. tostring(err))
  for _, r in pairs(responses) do
    assert(not r.err, method .. " failed: " .. vim.inspect(r.err))
    return r.result
  end
  error(method .. ": no response")
end

local function open(path, lines, filetype, client_id)
  vim.fn.writefile(lines, path)
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = filetype
  assert(vim.lsp.buf_attach_client(bufnr, client_id), "buf_attach_client failed")
  return bufnr, vim.uri_from_bufnr(bufnr)
end

local function run()
  -- Inside pcall: an error at the top level would leave headless nvim waiting forever.
  cmd = vim.fn.json_decode((assert(os.getenv("LSP_CMD"), "LSP_CMD is not set")))
  workdir = assert(os.getenv("WORKDIR"), "WORKDIR is not set")
  local client_id = vim.lsp.start_client({
    name = "debugbox",
    cmd = cmd,
    root_dir = workdir,
    -- TOOLBOX (optional): the toolbox image, one the engine has (the default cannot be pulled here).
    settings = { debugbox = { logLevel = "debug", toolboxImage = os.getenv("TOOLBOX") or nil } },
    init_options = { settings = { debugbox = { logLevel = "debug", toolboxImage = os.getenv("TOOLBOX") or nil } } },
    handlers = {
      ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
        diagnostics[result.uri] = result.diagnostics
        return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      end,
      ["window/showMessage"] = function(_, result)
        table.insert(messages, result.message)
      end,
    },
  })
  assert(client_id, "start_client failed for " .. table.concat(cmd, " "))

  -- 1. Diagnostics: a distroless final stage with a shell-form CMD.
  local bufnr, uri = open(workdir .. "/Dockerfile", {
    "FROM golang:1.22 AS build",
    "RUN go build -o /app .",
    "FROM gcr.io/distroless/static-debian12",
    "COPY --from=build /app /app",
    "CMD /app --port 8080",
  }, "dockerfile", client_id)
  wait_for("diagnostics from debugbox", 20000, function()
    return diagnostics[uri] ~= nil and #diagnostics[uri] > 0
  end)
  local shell_form
  for _, d in ipairs(diagnostics[uri]) do
    out(string.format("DIAGNOSTIC %s %s L%d", d.source, d.code, d.range.start.line + 1))
    if d.code == "DBX102" then
      shell_form = d
    end
  end
  assert(shell_form, "no DBX102 (shell-form CMD without /bin/sh) diagnostic")

  -- 2. Code actions for that diagnostic: list them, apply the exec-form rewrite.
  local actions = request(bufnr, "textDocument/codeAction", {
    textDocument = { uri = uri },
    range = shell_form.range,
    context = { diagnostics = { shell_form } },
  })
  assert(actions and #actions > 0, "no code actions")
  local rewrite
  for _, a in ipairs(actions) do
    out("ACTION " .. a.title)
    if a.title:find("exec", 1, true) and a.edit then
      rewrite = a
    end
  end
  assert(rewrite, "no exec-form rewrite among the code actions")
  vim.lsp.util.apply_workspace_edit(rewrite.edit, "utf-16")
  out("APPLIED " .. rewrite.title)
  local line = vim.api.nvim_buf_get_lines(bufnr, 4, 5, false)[1]
  out("LINE " .. line)
  assert(line == 'CMD ["/app", "--port", "8080"]', "unexpected line after the fix: " .. line)

  -- 2b. A manifest quick fix picked in Neovim's own code-action menu (vim.lsp.buf.code_action): it is listed
  -- without its edit (checked when chosen), Neovim completes it with codeAction/resolve and applies the edit.
  local mbuf, muri = open(workdir .. "/pod.yaml", {
    "apiVersion: v1",
    "kind: Pod",
    "metadata:",
    "  name: web",
    "spec:",
    "  restartPolicy: Always",
    "  containers:",
    "  - name: app",
    "    image: gcr.io/distroless/static-debian12",
  }, "yaml", client_id)
  wait_for("diagnostics for the manifest", 20000, function()
    return diagnostics[muri] ~= nil
  end)
  vim.api.nvim_win_set_cursor(0, { 6, 2 })
  vim.ui.select = function(items, _, on_choice)
    for _, item in ipairs(items) do
      if item[2].title:find("shareProcessNamespace", 1, true) then
        out("PICKED " .. (item[2].edit and "with its edit" or "edit on resolve"))
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  vim.lsp.buf.code_action()
  wait_for("the picked quick fix applied", 20000, function()
    return vim.api.nvim_buf_get_lines(mbuf, 6, 7, false)[1] == "  shareProcessNamespace: true"
  end)
  out("MANIFEST " .. table.concat(vim.api.nvim_buf_get_lines(mbuf, 5, 8, false), "|"))

  -- 3. debugbox.debugCommand: the argv for a live container (no terminal: this client did not opt in).
  if target ~= "" then
    local result = request(bufnr, "workspace/executeCommand", {
      command = "debugbox.debugCommand",
      arguments = { { target = target } },
    }, 30000)
    assert(type(result) == "table" and type(result.argv) == "table", "no argv in " .. vim.inspect(result))
    out("ARGV " .. vim.fn.json_encode(result.argv))
    out("STRATEGY " .. tostring(result.strategy))
    -- openDebugTerminal without the experimental capability: the command line comes as a message.
    request(bufnr, "workspace/executeCommand", {
      command = "debugbox.openDebugTerminal",
      arguments = { { target = target } },
    }, 30000)
    wait_for("window/showMessage with the command line", 10000, function()
      return #messages > 0
    end)
    for _, m in ipairs(messages) do
      out("MESSAGE " .. m:gsub("\n", "\\n"))
    end
  end
  return 0
end

local ok, res = pcall(run)
if ok then
  out("OK")
else
  io.stderr:write("FAIL: " .. tostring(res) .. "\n")
end
for _, c in pairs(vim.lsp.get_active_clients()) do
  c.stop(true)
end
io.stdout:flush()
io.stderr:flush()
vim.cmd(ok and "qall!" or "cquit 1")
