"""Load with wrk: a generated Lua script sends the page (or a list of valid POSTs) with the
session cookie, counts real successes, and prints one JSON line that we parse."""
import json
import os
import shutil
import subprocess
import tempfile

SCRIPT = r"""
local method, path, success = %(method)s, %(path)s, %(success)s
local headers = %(headers)s
local items = %(items)s
local nthreads = %(threads)d
local threads, started = {}, 0

function setup(thread)
  thread:set("tid", started)
  started = started + 1
  table.insert(threads, thread)
end

function init(args)
  n, ok, bad = tid, 0, 0
end

function request()
  if #items == 0 then
    return wrk.format(method, path, headers)
  end
  local item = items[(n %% #items) + 1]
  n = n + nthreads
  return wrk.format(method, item[1], headers, item[2])
end

function response(status, hdrs, body)
  local good = status == 200
  if good and success ~= nil then
    good = false
    for k, _ in pairs(hdrs) do
      if string.lower(k) == success then good = true end
    end
  end
  if good then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local ok_all, bad_all = 0, 0
  for _, t in ipairs(threads) do
    ok_all = ok_all + t:get("ok")
    bad_all = bad_all + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "ok": %%d, "bad": %%d, "p50_us": %%d, ' ..
    '"p99_us": %%d, "socket_errors": %%d, "status_errors": %%d}\n',
    summary.requests, summary.duration, ok_all, bad_all, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_installed() -> str:
    """wrk's path; installs the Debian package when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (Debian package)…", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: sudo apt-get install wrk")
    return found


def _lua(value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def run(base_url: str, path: str, *, headers: dict, duration: float, connections: int = 8,
        threads: int = 2, posts: list | None = None, success_header: str | None = None) -> dict:
    """Drive `path` (or the POSTs `posts` = [(path, urlencoded body)]) for `duration` seconds."""
    script = SCRIPT % {"method": _lua("POST" if posts else "GET"), "path": _lua(path),
                       "success": _lua(success_header), "headers": _lua(headers),
                       "items": _lua(posts or []), "threads": threads}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            [ensure_installed(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
             "--timeout", "10s", "-s", f.name, base_url.rstrip("/") + (path or "/")],
            capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(f.name)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    data = json.loads(line[6:])
    seconds = data["duration_us"] / 1e6
    return {"req_per_s": round(data["requests"] / seconds, 1), "requests": data["requests"],
            "ok": data["ok"], "bad": data["bad"], "errors": data["socket_errors"],
            "load_p50_ms": round(data["p50_us"] / 1000, 2),
            "load_p99_ms": round(data["p99_us"] / 1000, 2)}
