"""The git subcommands that only read, each with the options known to only read.

Left out on purpose: global options that change what git runs or where (``-c``, ``-C``,
``--git-dir``, ``--exec-path``), options that write (``--output``), run programs
(``git grep -O``/``--open-files-in-pager``, ``--ext-diff``, ``--textconv``, ``--filters``,
``--show-signature`` which runs gpg) or contact a remote (``git remote show``). Branch and tag
names as operands create them, so those take operands only with ``--list``.
"""

from __future__ import annotations

from codeagent.agent.tools.command_flags import Flags, flags, merged
from codeagent.agent.tools.read_only_programs import Check, Options


def _flags(
    short: str = "",
    *,
    value: str = "",
    attached: str = "",
    long: str = "",
    long_value: str = "",
    long_optional: str = "",
    numeric: bool = False,
) -> Flags:
    """``flags`` where a long option's value counts only as ``--name=value``: git takes a
    separate word as the value for some options and not for others, so a separate word is
    always checked as an option or operand of its own, never skipped."""
    return flags(
        short,
        value=value,
        attached=attached,
        long=long,
        long_optional=f"{long_value} {long_optional}",
        numeric=numeric,
    )


# Diff output options shared by diff, log and show.
_DIFF_OUTPUT = _flags(
    "pusRaWwbzD",
    value="SG",
    attached="MCBUl",
    long="patch no-patch raw patch-with-raw patch-with-stat numstat shortstat summary "
    "name-only name-status full-index binary minimal patience histogram no-renames "
    "rename-empty no-rename-empty check exit-code quiet no-ext-diff no-textconv text "
    "ignore-cr-at-eol ignore-space-at-eol ignore-space-change ignore-all-space "
    "ignore-blank-lines function-context no-prefix no-color pickaxe-all pickaxe-regex "
    "irreversible-delete find-copies-harder cumulative compact-summary ita-invisible-in-index "
    "ita-visible-in-index default-prefix no-indent-heuristic indent-heuristic no-relative "
    "no-color-moved no-color-moved-ws",
    long_value="unified inter-hunk-context src-prefix dst-prefix line-prefix diff-filter "
    "word-diff-regex diff-algorithm anchored ignore-matching-lines output-indicator-new "
    "output-indicator-old output-indicator-context skip-to rotate-to",
    long_optional="stat dirstat color word-diff color-words abbrev relative submodule "
    "ignore-submodules find-renames find-copies break-rewrites color-moved color-moved-ws "
    "stat-width stat-name-width stat-count stat-graph-width",
)
# Revision walking and formatting options of log, show, shortlog and reflog.
_LOG = _flags(
    "iEFP",
    value="nL",
    long="oneline graph decorate no-decorate all branches tags remotes reverse merges "
    "no-merges first-parent abbrev-commit no-abbrev-commit follow full-diff left-right "
    "cherry-pick cherry-mark cherry boundary topo-order date-order author-date-order "
    "simplify-by-decoration ancestry-path regexp-ignore-case invert-grep all-match "
    "extended-regexp fixed-strings perl-regexp basic-regexp no-walk do-walk mailmap "
    "no-mailmap use-mailmap log-size children parents full-history dense sparse "
    "simplify-merges show-pulls remove-empty no-min-parents no-max-parents source "
    "relative-date local no-notes walk-reflogs diff-merges combined-diff dense-combined "
    "no-diff-merges expand-tabs no-expand-tabs",
    long_value="max-count skip since after until before author committer grep "
    "min-parents max-parents since-as-filter date exclude",
    long_optional="pretty format decorate-refs decorate-refs-exclude glob clear-decorations",
    numeric=True,
)
_STATUS = _flags(
    "sbvz",
    attached="u",
    long="short branch long verbose show-stash ahead-behind no-ahead-behind renames "
    "no-renames no-column",
    long_optional="porcelain untracked-files ignored ignore-submodules column find-renames",
)
_DIFF_ONLY = _flags(long="cached staged merge-base no-index")
_SHOW = _flags(long="no-standard-notes")
_GREP = _flags(
    "iIwvhHnlLcoqEFGPWpzra",
    value="efABCm",
    long="cached untracked no-index index no-exclude-standard exclude-standard "
    "recurse-submodules text ignore-case word-regexp invert-match full-name "
    "extended-regexp basic-regexp fixed-strings perl-regexp line-number column "
    "files-with-matches name-only files-without-match count null only-matching quiet "
    "all-match and or not break heading show-function function-context recursive "
    "no-recursive no-color",
    long_value="max-depth threads context after-context before-context max-count",
    long_optional="color",
    numeric=True,
)
_BLAME = _flags(
    "lbtpsefwncS",
    value="L",
    attached="MC",
    long="root show-stats porcelain line-porcelain incremental show-name show-number "
    "show-email minimal first-parent reverse progress no-progress color-lines color-by-age "
    "score-debug",
    long_value="date since ignore-rev ignore-revs-file contents encoding",
    long_optional="abbrev",
)
_LS_FILES = _flags(
    "cdomiksutvfz",
    value="xX",
    long="cached deleted others ignored stage unmerged killed modified directory "
    "no-empty-directory exclude-standard error-unmatch full-name recurse-submodules "
    "deduplicate eol sparse resolve-undo debug",
    long_value="exclude exclude-from exclude-per-directory with-tree format",
    long_optional="abbrev",
)
_LS_TREE = _flags(
    "drtlz",
    long="long name-only name-status object-only full-name full-tree",
    long_value="format",
    long_optional="abbrev",
)
_REV_PARSE = _flags(
    "q",
    long="verify quiet sq sq-quote not symbolic symbolic-full-name all local-env-vars "
    "show-toplevel show-prefix show-cdup git-dir git-common-dir absolute-git-dir "
    "is-inside-git-dir is-inside-work-tree is-bare-repository is-shallow-repository "
    "show-superproject-working-tree shared-index-path show-object-format show-ref-format "
    "revs-only no-revs flags no-flags",
    long_value="default prefix since after until before path-format git-path resolve-git-dir",
    long_optional="abbrev-ref short branches tags remotes glob exclude disambiguate",
)
_DESCRIBE = _flags(
    long="tags all long always exact-match contains first-parent debug",
    long_value="match exclude candidates",
    long_optional="abbrev dirty broken",
)
_SHORTLOG = _flags(
    "nsec",
    attached="w",
    long="numbered summary email committer",
    long_value="group",
    long_optional="format",
)
_CAT_FILE = _flags(
    "tspez",
    long="batch-all-objects buffer follow-symlinks unordered allow-unknown-type use-mailmap "
    "no-use-mailmap",
    long_optional="batch batch-check batch-command",
)
_BRANCH = _flags(
    "arvl",
    long="all remotes verbose list show-current no-color ignore-case omit-empty no-column",
    long_value="sort format points-at",
    long_optional="color contains no-contains merged no-merged column abbrev",
)
_TAG = _flags(
    "li",
    attached="n",
    long="list ignore-case omit-empty no-column no-color",
    long_value="sort format points-at",
    long_optional="contains no-contains merged no-merged column color",
)
_REMOTE = _flags("v", long="verbose")


def _listing(table: Flags) -> Check:
    """Operands (patterns) only with ``-l``/``--list``: otherwise they create a branch/tag."""

    def check(args: list[str]) -> bool:
        parsed = table.parse(args)
        if parsed is None:
            return False
        operands, found = parsed
        return not operands or any(name in ("l", "list") for name, _ in found)

    return check


def _remote(args: list[str]) -> bool:
    # Only listing and get-url: "remote show" and "remote update" contact the remote.
    if args[:1] == ["get-url"]:
        return Options(_flags(long="push all"))(args[1:])
    return _REMOTE.split(args) == []


_LOG_FLAGS = merged(_LOG, _DIFF_OUTPUT)


def _reflog(args: list[str]) -> bool:
    # "reflog" and "reflog show" show; expire, delete and drop write.
    if args[:1] == ["show"]:
        args = args[1:]
    elif args and not args[0].startswith("-") and args[0] != "exists":
        return False
    elif args[:1] == ["exists"]:
        return len(args) == 2
    return Options(_LOG_FLAGS)(args)


SUBCOMMANDS: dict[str, Check] = {
    "status": Options(_STATUS),
    "diff": Options(merged(_DIFF_OUTPUT, _DIFF_ONLY)),
    "log": Options(_LOG_FLAGS),
    "show": Options(merged(_LOG_FLAGS, _SHOW)),
    "grep": Options(_GREP),
    "blame": Options(_BLAME),
    "ls-files": Options(_LS_FILES),
    "ls-tree": Options(_LS_TREE),
    "rev-parse": Options(_REV_PARSE),
    "describe": Options(_DESCRIBE),
    "shortlog": Options(merged(_SHORTLOG, _LOG)),
    "cat-file": Options(_CAT_FILE),
    "reflog": _reflog,
    "branch": _listing(_BRANCH),
    "tag": _listing(_TAG),
    "remote": _remote,
}

#: Global options before the subcommand that change nothing about what runs.
_GLOBAL = {"--no-pager", "-P", "--no-optional-locks", "--literal-pathspecs", "--no-advice"}


def git_read_only(args: list[str]) -> bool:
    """True when ``git ARGS`` is a reading subcommand with reading options only."""
    while args and args[0] in _GLOBAL:
        args = args[1:]
    if not args or args[0] not in SUBCOMMANDS:
        return False
    return SUBCOMMANDS[args[0]](args[1:])


__all__ = ["SUBCOMMANDS", "git_read_only"]
