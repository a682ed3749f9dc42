// Posts `tenancy preview` output as ONE comment per pull request, called from actions/github-script:
//
//   const upsert = require('./.github/scripts/preview-comment.js');
//   await upsert({github, context, core}, {path: 'preview.md', runUrl});
//
// The comment is found again by a hidden marker and edited in place, so reruns never stack comments, and all
// stacks share one body, so one stack's run can never overwrite another's. Only comments written by the
// workflow's own bot count: a human quoting the marker is never edited.
'use strict';

const fs = require('fs');

const MARKER = '<!-- tenancy-preview -->';
const BOT_LOGIN = 'github-actions[bot]';
// GitHub refuses comment bodies longer than this.
const MAX_BODY = 65536;

function buildBody(preview, runUrl) {
  const footer = runUrl ? `\n\n---\n[Workflow run and full preview artifact](${runUrl})` : '';
  // `tenancy preview` already starts with the marker; keep exactly one.
  let text = preview.trim();
  if (text.startsWith(MARKER)) text = text.slice(MARKER.length).trim();
  text = text || '_`tenancy preview` reported no changes._';
  const room = MAX_BODY - MARKER.length - 1 - footer.length;
  if (text.length > room) {
    const note = '\n\n… truncated: the full preview is in the run\'s `tenancy-preview` artifact.';
    text = text.slice(0, room - note.length) + note;
  }
  return `${MARKER}\n${text}${footer}`;
}

function isOurs(comment, botLogin) {
  return Boolean(comment.body && comment.body.startsWith(MARKER) && comment.user && comment.user.login === botLogin);
}

async function upsertComment({github, context, core}, body, {botLogin = BOT_LOGIN} = {}) {
  const {owner, repo} = context.repo;
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, {owner, repo, issue_number, per_page: 100});
  const ours = comments.filter((c) => isOurs(c, botLogin)).sort((a, b) => a.id - b.id);

  if (ours.length === 0) {
    const {data} = await github.rest.issues.createComment({owner, repo, issue_number, body});
    core.info(`created preview comment ${data.id}`);
    return {action: 'created', id: data.id};
  }
  const [keep, ...duplicates] = ours;
  const changed = keep.body !== body;
  if (changed) {
    await github.rest.issues.updateComment({owner, repo, comment_id: keep.id, body});
  }
  // Two runs racing before concurrency cancelled one can each have created a comment: converge on the oldest.
  for (const extra of duplicates) {
    await github.rest.issues.deleteComment({owner, repo, comment_id: extra.id});
  }
  core.info(`updated preview comment ${keep.id}` + (duplicates.length ? `, removed ${duplicates.length}` : ''));
  return {action: changed ? 'updated' : 'unchanged', id: keep.id, removed: duplicates.length};
}

module.exports = async function run({github, context, core}, {path = 'preview.md', runUrl = ''} = {}) {
  const body = buildBody(fs.readFileSync(path, 'utf8'), runUrl);
  try {
    return await upsertComment({github, context, core}, body);
  } catch (error) {
    // A read-only token (fork, Dependabot, restricted repository default) cannot comment; the preview is
    // still in the artifact and the run summary, so this must not fail the pull request.
    if (error.status === 403) {
      core.warning(`cannot comment on this pull request (${error.message}); see the tenancy-preview artifact`);
      return {action: 'skipped'};
    }
    throw error;
  }
};

module.exports.MARKER = MARKER;
module.exports.buildBody = buildBody;
module.exports.upsertComment = upsertComment;
