"""The programs that may run without asking, each with the options known to only read.

Left out on purpose: options that write (``sort -o``, ``tree -o``, ``sed -i``, ``file -C``),
run other programs (``rg --pre``, ``find -exec``, ``sort --compress-program``), never end
(``tail -f``) or change the system (``date -s``, ``hostname NAME``). An option not listed
here makes the whole command "ask".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from codeagent.agent.tools.command_flags import Flags, flags

#: A check of one command's arguments (its name removed): True when it only reads.
Check = Callable[[list[str]], bool]


@dataclass(frozen=True)
class Options:
    """A check that is read-only when every option is in ``table`` and ``operands`` (if
    given) accepts the remaining words. ``table`` stays readable, e.g. for property tests."""

    table: Flags
    operands: Callable[[list[str]], bool] | None = None

    def __call__(self, args: list[str]) -> bool:
        rest = self.table.split(args)
        return rest is not None and (self.operands is None or self.operands(rest))


def _at_most(count: int) -> Callable[[list[str]], bool]:
    return lambda rest: len(rest) <= count


def _none(rest: list[str]) -> bool:
    return not rest


def _anything(args: list[str]) -> bool:
    return True


_LS = flags(
    "aAbBcCdfFghHiklLmnNopqQrRsStuUvxXZ1",
    value="ITw",
    long="all almost-all author escape ignore-backups directory dired classify file-type "
    "full-time group-directories-first no-group human-readable si dereference-command-line "
    "dereference-command-line-symlink-to-dir inode kibibytes dereference literal "
    "numeric-uid-gid hide-control-chars show-control-chars quote-name reverse recursive size "
    "context zero help version",
    long_value="block-size format hide ignore indicator-style quoting-style sort time "
    "time-style tabsize width",
    long_optional="color hyperlink",
)
_CAT = flags(
    "AbeEnstTuv",
    long="show-all number-nonblank show-ends number squeeze-blank "
    "show-tabs show-nonprinting help version",
)
_HEAD_TAIL = flags(
    "qvz",
    value="cn",
    long="quiet silent verbose zero-terminated help version",
    long_value="bytes lines",
    numeric=True,
)
_WC = flags(
    "cmlLw",
    long="bytes chars lines max-line-length words total help version",
    long_value="files0-from",
)
_GREP = flags(
    "EFGPiyvwxcoqsbHhnTZzrRlLaIU",
    value="efmABCdD",
    long="extended-regexp fixed-strings basic-regexp perl-regexp ignore-case no-ignore-case "
    "word-regexp line-regexp null-data no-messages invert-match version help byte-offset "
    "line-number no-line-number line-buffered with-filename no-filename only-matching quiet "
    "silent text recursive dereference-recursive files-without-match files-with-matches count "
    "initial-tab null",
    long_value="regexp file max-count label binary-files directories devices include exclude "
    "exclude-from exclude-dir before-context after-context context",
    long_optional="color colour",
    numeric=True,
)
_RG = flags(
    "iSswxvnNlcoFuUHILqaP0zp.",
    value="egtTABCmjrMd",
    long="ignore-case smart-case case-sensitive word-regexp line-regexp invert-match "
    "line-number no-line-number files-with-matches files-without-match count count-matches "
    "only-matching fixed-strings hidden no-ignore no-ignore-vcs no-ignore-parent no-ignore-dot "
    "no-ignore-global follow files heading no-heading with-filename no-filename quiet text "
    "multiline multiline-dotall pcre2 null trim vimgrep column no-column json stats type-list "
    "no-messages pretty search-zip unrestricted byte-offset crlf ignore-file-case-insensitive "
    "one-file-system passthru no-config sort-files include-zero",
    long_value="regexp glob iglob type type-not type-add after-context before-context context "
    "max-count max-depth threads replace max-columns color colors sort sortr encoding "
    "max-filesize ignore-file context-separator field-match-separator path-separator",
)
_DIFF = flags(
    "qsyiEZbwBatTrNdu",
    value="UCWxXSFIL",
    long="brief report-identical-files side-by-side ignore-case ignore-tab-expansion "
    "ignore-trailing-space ignore-space-change ignore-all-space ignore-blank-lines text "
    "expand-tabs initial-tab recursive new-file unidirectional-new-file minimal "
    "speed-large-files strip-trailing-cr normal suppress-common-lines left-column "
    "no-dereference show-c-function help version",
    long_value="width exclude exclude-from starting-file label ignore-matching-lines "
    "show-function-line from-file to-file tabsize",
    long_optional="unified context color",
)
_CMP = flags(
    "bls",
    value="in",
    long="print-bytes verbose quiet silent help version",
    long_value="bytes ignore-initial",
)
_STAT = flags(
    "LftZ",
    value="c",
    long="dereference file-system terse help version",
    long_value="format printf cached",
)
_DU = flags(
    "0abchklmsxLHPDS",
    value="dtBX",
    long="null all apparent-size bytes total dereference-args human-readable inodes "
    "dereference count-links no-dereference separate-dirs si summarize one-file-system "
    "help version",
    long_value="max-depth threshold block-size exclude exclude-from files0-from time-style",
    long_optional="time",
)
_DF = flags(
    "ahHiklPT",
    value="tBx",
    long="all human-readable si inodes local portability "
    "print-type total no-sync sync help version",
    long_value="type exclude-type block-size",
    long_optional="output",
)
_SORT = flags(
    "bdfgiMhnRrVcCmsuz",
    value="ktS",
    long="ignore-leading-blanks dictionary-order ignore-case general-numeric-sort "
    "ignore-nonprinting month-sort human-numeric-sort numeric-sort random-sort reverse "
    "version-sort merge stable unique zero-terminated debug help version",
    long_value="key field-separator buffer-size parallel sort random-source files0-from",
    long_optional="check",
)
_UNIQ = flags(
    "cdDiuz",
    value="fsw",
    long="count repeated unique ignore-case zero-terminated help version",
    long_value="skip-fields skip-chars check-chars",
    long_optional="all-repeated group",
)
_CUT = flags(
    "nsz",
    value="bcfd",
    long="complement only-delimited zero-terminated help version",
    long_value="bytes characters fields delimiter output-delimiter",
)
_TR = flags("cCdst", long="complement delete squeeze-repeats truncate-set1 help version")
_NL = flags(
    "p",
    value="bdfhilnsvw",
    long="no-renumber help version",
    long_value="body-numbering "
    "section-delimiter footer-numbering header-numbering line-increment "
    "join-blank-lines number-format number-separator starting-line-number "
    "number-width",
)
_TREE = flags(
    "adlfxpugshDFqNQrtvUcCnAiSJX",
    value="LPI",
    long="noreport inodes device dirsfirst du prune matchdirs gitignore fromfile help version "
    "si ignore-case",
    long_value="filelimit timefmt charset sort",
)
_FILE = flags(
    "bcEhiklLNnprsSzZ0",
    value="efFmP",
    long="brief mime mime-type mime-encoding "
    "keep-going dereference no-dereference no-pad print0 preserve-date raw "
    "special-files uncompress uncompress-noreport help version extension apple",
    long_value="exclude exclude-quiet separator magic-file parameter files-from",
)
_SUMS = flags(
    "bctwz", long="binary check tag text zero ignore-missing quiet status strict warn help version"
)
_READLINK = flags(
    "femnqsvz",
    long="canonicalize canonicalize-existing canonicalize-missing "
    "no-newline quiet silent verbose zero help version",
)
_REALPATH = flags(
    "emLPqsz",
    long="canonicalize-existing canonicalize-missing logical "
    "physical quiet strip no-symlinks zero help version",
    long_value="relative-to relative-base",
)
_BASENAME = flags("az", value="s", long="multiple zero help version", long_value="suffix")
_DIRNAME = flags("z", long="zero help version")
_COLUMN = flags(
    "tnxeJL",
    value="sociNdlHORWE",
    long="table fillrows json keep-empty-lines help version",
    long_value="separator output-separator output-width table-columns table-name",
)
_ID = flags("agGnruzZ", long="context group groups name real user zero help version")
_UNAME = flags(
    "asnrvmpio",
    long="all kernel-name nodename kernel-release kernel-version "
    "machine processor hardware-platform operating-system help version",
)
_HOSTNAME = flags(
    "sfdiIAa",
    long="short fqdn long domain ip-address all-ip-addresses all-fqdns alias help version",
)
_PRINTENV = flags("0", long="null help version")
_WHICH = flags("as")
_TYPE = flags("afpPt")
_CD = flags("LPe@")
_PWD = flags("LP")
_DATE = flags(
    "uR",
    value="dr",
    attached="I",
    long="utc universal rfc-email debug help version",
    long_value="date reference",
    long_optional="iso-8601 rfc-3339",
)


def _date_operands(rest: list[str]) -> bool:
    # A bare operand sets the clock (``date 010100002020``); only +FORMAT prints.
    return all(word.startswith("+") for word in rest)


# sed: only scripts made of addresses and print/delete/quit commands; never w, W, r, R, e,
# s///w or s///e, and never a script file (-f) or in-place editing (-i).
_SED = flags(
    "nErsuz",
    value="el",
    long="quiet silent regexp-extended separate unbuffered "
    "null-data posix debug sandbox help version",
    long_value="expression line-length",
)
_SED_ADDRESS = r"(?:\d+(?:~\d+)?|\$|/[^/\\]*/I?)"
_SED_COMMAND = (
    rf"(?:{_SED_ADDRESS}(?:\s*,\s*(?:{_SED_ADDRESS}|[+~]\d+))?)?\s*!?\s*(?:[pdlnNPD=]|[qQ]\d*)"
)
_SED_SCRIPT = re.compile(rf"\s*{_SED_COMMAND}\s*(?:;\s*{_SED_COMMAND}\s*)*;?\s*")


def _sed(args: list[str]) -> bool:
    parsed = _SED.parse(args)
    if parsed is None:
        return False
    operands, values = parsed
    scripts = [value for option, value in values if option in ("e", "expression")]
    if not scripts:
        if not operands:
            return False
        scripts = [operands[0]]  # without -e the first operand is the script
    # The flag table gives -e/--expression a value always; None would be a script we cannot read.
    return all(script is not None and _SED_SCRIPT.fullmatch(script) for script in scripts)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# find: starting points, then an expression of tests and printing actions only.
_FIND_SWITCHES = _words(
    "-depth -empty -readable -writable -executable -true -false -nouser -nogroup -xdev -mount "
    "-noleaf -daystart -ignore_readdir_race -noignore_readdir_race -follow -print -print0 -ls "
    "-prune -quit -not -a -and -o -or ! ( ) ,"
)
_FIND_TESTS = _words(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -type -xtype -size -mtime "
    "-mmin -atime -amin -ctime -cmin -newer -anewer -cnewer -perm -user -group -uid -gid "
    "-links -inum -samefile -lname -ilname -maxdepth -mindepth -regextype -printf -fstype "
    "-used -context"
)


_FIND_OPERATORS = {"!", "(", ")", ","}


def _find(args: list[str]) -> bool:
    index = 0
    while index < len(args) and args[index] in ("-L", "-H", "-P"):
        index += 1
    while index < len(args) and not args[index].startswith("-"):
        if args[index] in _FIND_OPERATORS:
            break
        index += 1  # starting points
    while index < len(args):
        word = args[index]
        if word in _FIND_SWITCHES:
            index += 1
        elif word in _FIND_TESTS and index + 1 < len(args):
            index += 2
        else:
            return False  # -exec, -delete, -fprint, -fls, -ok and anything unknown
    return True


PROGRAMS: dict[str, Check] = {
    "ls": Options(_LS),
    "cat": Options(_CAT),
    "head": Options(_HEAD_TAIL),
    "tail": Options(_HEAD_TAIL),
    "wc": Options(_WC),
    "grep": Options(_GREP),
    "egrep": Options(_GREP),
    "fgrep": Options(_GREP),
    "rg": Options(_RG),
    "diff": Options(_DIFF),
    "cmp": Options(_CMP),
    "stat": Options(_STAT),
    "du": Options(_DU),
    "df": Options(_DF),
    "sort": Options(_SORT),
    "uniq": Options(_UNIQ, _at_most(1)),  # a second operand is an output file
    "cut": Options(_CUT),
    "tr": Options(_TR),
    "nl": Options(_NL),
    "tree": Options(_TREE),
    "file": Options(_FILE),
    "md5sum": Options(_SUMS),
    "sha1sum": Options(_SUMS),
    "sha256sum": Options(_SUMS),
    "readlink": Options(_READLINK),
    "realpath": Options(_REALPATH),
    "basename": Options(_BASENAME),
    "dirname": Options(_DIRNAME),
    "column": Options(_COLUMN),
    "id": Options(_ID),
    "uname": Options(_UNAME, _none),
    "hostname": Options(_HOSTNAME, _none),  # an operand sets the host name
    "printenv": Options(_PRINTENV),
    "which": Options(_WHICH),
    "type": Options(_TYPE),
    "cd": Options(_CD, _at_most(1)),
    "pwd": Options(_PWD, _none),
    "date": Options(_DATE, _date_operands),
    "env": lambda args: not args,  # with arguments, env runs a program
    "whoami": lambda args: not args,
    "echo": _anything,  # prints its arguments and nothing else
    "true": _anything,
    "false": _anything,
    "sed": _sed,
    "find": _find,
}


__all__ = ["PROGRAMS", "Check", "Options"]
