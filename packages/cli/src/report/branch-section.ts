// The morning report's "Branch" section (issue 18 §3): the run's branch, its commits,
// `git diff --stat base...branch` and the full diff (collapsed in the HTML), or why there is none.
import type { RunCheckout } from '@nightshift/protocol';
import { type BranchReport, describeRunBranch, type HostEnv } from '@nightshift/tools';

export interface BranchSection {
  checkout?: RunCheckout | undefined;
  branch?: BranchReport | undefined;
  /** Why the branch could not be read (deleted, a repository this machine cannot see). */
  problem?: string | undefined;
}

export async function loadBranchSection(
  checkout: RunCheckout | undefined,
  host?: HostEnv,
): Promise<BranchSection> {
  if (checkout === undefined) return {};
  try {
    const branch = await describeRunBranch(checkout, { host });
    return branch ? { checkout, branch } : { checkout, problem: 'the branch no longer exists (discarded?)' };
  } catch (error) {
    return { checkout, problem: error instanceof Error ? error.message : String(error) };
  }
}

function applyLines(c: RunCheckout, runId: string): string[] {
  if (c.repo === undefined)
    return [
      `The workspace was not a git repository: the team worked on a copy in ${c.path}.`,
      `See the changes: git -C ${c.path} diff ${c.base.slice(0, 12)}...${c.branch}`,
    ];
  return [
    `nightshift apply ${runId}    (merges ${c.branch} into your current branch if your tree is clean)`,
    `git -C ${c.repo} merge ${c.branch}`,
    `git -C ${c.repo} cherry-pick ${c.base.slice(0, 12)}..${c.branch}`,
    `nightshift discard ${runId}  (removes the run's checkout and branch)`,
  ];
}

export function branchMarkdown(s: BranchSection, runId: string): string {
  if (s.checkout === undefined) return '';
  const out = ['', '## Branch', ''];
  const b = s.branch;
  out.push(
    `- branch: \`${s.checkout.branch}\` from \`${s.checkout.baseRef}\` (${s.checkout.base.slice(0, 12)})`,
  );
  out.push(`- repository: ${s.checkout.repo ?? `(a copy) ${s.checkout.path}`}`);
  if (!b) {
    out.push(`- ${s.problem ?? 'no branch'}`, '');
    return out.join('\n');
  }
  out.push('', `### Commits (${b.commits.length})`, '');
  for (const c of b.commits) out.push(`- \`${c.sha.slice(0, 12)}\` ${c.subject} — ${c.author}`);
  if (b.commits.length === 0) out.push('- (none: the team changed nothing)');
  out.push(
    '',
    `### git diff --stat ${b.base.slice(0, 12)}...${b.branch}`,
    '',
    '```',
    b.diffStat.trimEnd(),
    '```',
  );
  out.push('', '### Diff', '', '```diff', b.diff.trimEnd(), '```');
  out.push('', '### Bring it in', '', '```', ...applyLines(s.checkout, runId), '```', '');
  return out.join('\n');
}

const esc = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function branchHtml(s: BranchSection, runId: string): string {
  if (s.checkout === undefined) return '';
  const b = s.branch;
  const head = `<h2>Branch</h2><p><code>${esc(s.checkout.branch)}</code> from <code>${esc(s.checkout.baseRef)}</code> (${esc(s.checkout.base.slice(0, 12))}) in ${esc(s.checkout.repo ?? `a copy at ${s.checkout.path}`)}</p>`;
  if (!b) return `<section id="branch">${head}<p>${esc(s.problem ?? 'no branch')}</p></section>`;
  const commits = b.commits.map(
    (c) => `<li><code>${esc(c.sha.slice(0, 12))}</code> ${esc(c.subject)} — ${esc(c.author)}</li>`,
  );
  return [
    '<section id="branch">',
    head,
    `<h3>Commits (${b.commits.length})</h3><ul>${commits.join('') || '<li>(none)</li>'}</ul>`,
    `<h3>git diff --stat</h3><pre>${esc(b.diffStat)}</pre>`,
    `<details><summary>Full diff (${b.diff.split('\n').length} lines${b.truncated ? ', truncated' : ''})</summary><pre class="diff">${esc(b.diff)}</pre></details>`,
    `<h3>Bring it in</h3><pre>${esc(applyLines(s.checkout, runId).join('\n'))}</pre>`,
    '</section>',
  ].join('\n');
}

/** Puts the section before `</body>` (the renderer's page stays as it is). */
export function withBranchHtml(page: string, section: string): string {
  if (section === '') return page;
  const at = page.lastIndexOf('</body>');
  return at < 0 ? page + section : `${page.slice(0, at)}${section}\n${page.slice(at)}`;
}
