""".github/scripts/preview-comment.js, run by Node against a fake GitHub API: one comment per pull request, found
by its marker, never a human's, duplicates removed, read-only tokens tolerated. Skipped where Node is missing
(actions/github-script provides it in CI on GitHub)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.paths import REPO_ROOT

SCRIPT = REPO_ROOT / ".github" / "scripts" / "preview-comment.js"
MARKER = "<!-- tenancy-preview -->"
BOT = "github-actions[bot]"

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node not installed (actions/github-script runs this on GitHub)")

# A fake `github` with issues.listComments served 2 per page, so pagination is exercised.
HARNESS = r"""
const run = require(process.argv[2]);
const input = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
let comments = input.comments, nextId = 1000;
const calls = [], logs = [];
const denied = (op) => { if (input.deny) { const e = new Error('Resource not accessible by integration'); e.status = 403; throw e; } calls.push(op); };
const issues = {
  listComments: async ({page = 1, per_page}) => ({data: comments.slice((page - 1) * 2, page * 2)}),
  createComment: async ({issue_number, body}) => { denied(['create', issue_number]); const c = {id: nextId++, body, user: {login: input.bot}}; comments.push(c); return {data: c}; },
  updateComment: async ({comment_id, body}) => { denied(['update', comment_id]); comments.find((c) => c.id === comment_id).body = body; return {data: {}}; },
  deleteComment: async ({comment_id}) => { denied(['delete', comment_id]); comments = comments.filter((c) => c.id !== comment_id); return {data: {}}; },
};
const github = {
  rest: {issues},
  paginate: async (fn, params) => { let all = [], page = 1, got; do { got = (await fn({...params, page})).data; all = all.concat(got); page++; } while (got.length); return all; },
};
const context = {repo: {owner: 'o', repo: 'r'}, issue: {number: 7}};
const core = {info: (m) => logs.push(m), warning: (m) => logs.push('warning: ' + m)};
run({github, context, core}, {path: input.path, runUrl: input.runUrl}).then(
  (result) => console.log(JSON.stringify({result, calls, comments, logs})),
  (error) => { console.log(JSON.stringify({error: error.message, calls, comments})); process.exit(1); });
"""


def upsert(tmp_path: Path, preview: str, comments: list[dict], deny: bool = False, run_url: str = "") -> dict:
    (tmp_path / "preview.md").write_text(preview)
    (tmp_path / "harness.js").write_text(HARNESS)
    (tmp_path / "input.json").write_text(json.dumps({"comments": comments, "path": str(tmp_path / "preview.md"),
                                                     "bot": BOT, "deny": deny, "runUrl": run_url}))
    done = subprocess.run([NODE, str(tmp_path / "harness.js"), str(SCRIPT), str(tmp_path / "input.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def ours(body: str, id_: int) -> dict:
    return {"id": id_, "body": f"{MARKER}\n{body}", "user": {"login": BOT}}


def test_first_run_creates_one_comment_with_the_marker(tmp_path):
    out = upsert(tmp_path, "## dev\n+1 flow\n", [{"id": 1, "body": "LGTM", "user": {"login": "alice"}}],
                 run_url="https://example.test/run/1")
    assert out["result"]["action"] == "created" and out["calls"] == [["create", 7]]
    body = out["comments"][-1]["body"]
    assert body.startswith(MARKER + "\n## dev\n+1 flow") and "https://example.test/run/1" in body


def test_a_rerun_edits_the_same_comment_instead_of_adding_one(tmp_path):
    existing = [{"id": 1, "body": "LGTM", "user": {"login": "alice"}}, {"id": 2, "body": "x", "user": {"login": "bob"}},
                ours("old preview", 3)]  # on the second page
    out = upsert(tmp_path, "new preview", existing)
    assert out["result"] == {"action": "updated", "id": 3, "removed": 0}
    assert out["calls"] == [["update", 3]]
    assert [c["id"] for c in out["comments"]] == [1, 2, 3] and "new preview" in out["comments"][2]["body"]


def test_an_unchanged_preview_makes_no_write(tmp_path):
    first = upsert(tmp_path, "same", [])
    again = upsert(tmp_path, "same", first["comments"])
    assert again["result"]["action"] == "unchanged" and again["calls"] == []


def test_duplicates_from_racing_runs_converge_on_the_oldest(tmp_path):
    out = upsert(tmp_path, "latest", [ours("run b", 9), ours("run a", 4), ours("run c", 12)])
    assert out["calls"] == [["update", 4], ["delete", 9], ["delete", 12]]
    assert [c["id"] for c in out["comments"]] == [4]


def test_a_human_quoting_the_marker_is_never_edited(tmp_path):
    human = {"id": 5, "body": f"{MARKER}\nI pasted this", "user": {"login": "alice"}}
    quoted = {"id": 6, "body": f"> {MARKER}\n> old", "user": {"login": BOT}}
    out = upsert(tmp_path, "preview", [human, quoted])
    assert out["calls"] == [["create", 7]]
    assert out["comments"][0] == human


def test_a_read_only_token_warns_instead_of_failing(tmp_path):
    out = upsert(tmp_path, "preview", [], deny=True)
    assert out["result"] == {"action": "skipped"}
    assert any(log.startswith("warning: cannot comment") for log in out["logs"])


def test_an_oversized_preview_is_truncated_under_githubs_limit(tmp_path):
    out = upsert(tmp_path, "x" * 70000, [], run_url="https://example.test/run/2")
    body = out["comments"][-1]["body"]
    assert len(body) <= 65536 and "truncated" in body and body.endswith("(https://example.test/run/2)")
