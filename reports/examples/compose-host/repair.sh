#!/bin/sh
# shellcheck disable=SC2317 # a helper is unused when no repair needs it
# shellcheck disable=SC2016 # names are single-quoted so that $(...) and backticks in
# them stay literal text: nothing in a quoted word is meant to expand
# Repair script written by docker-analyzer 0.1.0 (run 20260101T000000Z).
#
# Analysed: compose-host (tar)
# Scanned at: 2026-01-01T00:00:00Z
# Data root: /var/lib/docker (Docker's default data root /var/lib/docker)
# Host root: / (ROOT holds etc/ and the folders of an operating system: it is a host root)
# The scan read a snapshot, not this machine: give --data-root and --host-root as they are here.
#
# Review it before running it. Usage:
#   sh repair.sh [--apply] [--only FINDING_ID]... [--choose REPAIR_ID]...
#                [--host-root DIR] [--data-root DIR]
# Without --apply it only prints what it would do and changes nothing.
# --apply        perform the automatic repairs and the chosen ones
# --only F-...   restrict to these findings (repeatable)
# --choose R-... perform this repair, which is not automatic (repeatable); it replaces
#                the automatic repair of its finding
# --data-root, --host-root   where the roots are now (default: what was analysed;
#                the scan read a snapshot, so give the roots the repairs need)
# Before touching a container it checks that the container's layer is still the one
# analysed, that the layer is not mounted (the container is not running) and that no
# dockerd serves the data root (it could start the container again).
# Every change is recorded in <data-root>/docker-analyzer-quarantine/20260101T000000Z/undo.log;
# undo.sh in the same folder reverts them (also a dry run unless given --apply).
# Exit status: 0 nothing left to do or would do, 1 something was skipped or refused,
# repairs to do by hand remain, or a finding waits for a --choose or for you, 2 bad
# arguments.

set -u
set -f
LC_ALL=C
export LC_ALL
unset CDPATH
umask 077

RUN_ID='20260101T000000Z'
ANALYSED_DATA_ROOT=''
ANALYSED_HOST_ROOT=''
QUARANTINE=docker-analyzer-quarantine
ALL_FINDINGS='F-23ab24527b F-81cefb184d F-7229941f5b'

APPLY=0
ONLY=
CHOSEN=
OPT_DATA_ROOT=
OPT_HOST_ROOT=
DATA_P=
HOST_P=
QDIR=
FAILED=0
MANUAL=0
WHY=
HERE=
KIND=
ROOT_P=
MODE=''
UIDV=''
GIDV=''
MTIME=''
PICK=
F_ON=0
R_ON=0
R_PENDING=0
R_LAST_DIR=
C_OK=
C_BAD=
DAEMON_STATE=
STEP_ROOT=
UNCHECKED=
WAITING=
LEFT=
AFTER=
CUR_F=
CUR_TITLE=
CUR_OPTS=
CUR_SCRIPTED=0
# --- shared helpers (repair.sh and undo.sh) -------------------------------------------

say() {
	printf '%s\n' "$*"
}

# Enter ROOT/PARENT without trusting any symlink on the way: cd -P resolves the path,
# and pwd -P must then equal the path we meant. A symlink swapped into the path after
# the scan makes the two differ, and the step is refused. Sets HERE.
enter_dir() {
	if [ -z "$2" ]; then
		want=$1
	else
		want=${1%/}/$2
	fi
	if ! cd -P -- "$want" 2>/dev/null; then
		WHY="its folder cannot be entered"
		return 1
	fi
	# The "." sentinel keeps a folder name that ends in a newline intact.
	HERE=$(pwd -P; echo .)
	HERE=${HERE%??}
	if [ "$HERE" != "$want" ]; then
		WHY="its folder resolves to somewhere else (a symlink in the path?)"
		return 1
	fi
	return 0
}

# An empty directory has no entry at all, dot files included. ls -A lists them; if ls
# fails (unreadable), the directory counts as not empty.
dir_is_empty() {
	_entries=$(ls -A -- "$1" 2>/dev/null) || return 1
	[ -z "$_entries" ]
}

# Classify ./NAME, testing -L before anything that follows a symlink. Sets KIND.
kind_of() {
	if [ -L "$1" ]; then
		KIND=symlink
	elif [ ! -e "$1" ]; then
		KIND=absent
	elif [ -f "$1" ]; then
		if [ -s "$1" ]; then KIND='file'; else KIND='empty_file'; fi
	elif [ -d "$1" ]; then
		if dir_is_empty "$1"; then KIND=empty_dir; else KIND=dir; fi
	else
		KIND=other
	fi
}

kind_words() {
	case $1 in
	symlink) echo "a symlink" ;;
	absent) echo "absent" ;;
	file) echo "a file with content" ;;
	empty_file) echo "an empty file" ;;
	dir) echo "a directory with entries" ;;
	empty_dir) echo "an empty directory" ;;
	*) echo "neither a file nor a directory" ;;
	esac
}

mtime_of() {
	_mt=$(stat -c '%Y' -- "$1" 2>/dev/null) || return 1
	case $_mt in '' | *[!0-9]*) return 1 ;; esac
	printf '%s' "$_mt"
}

# --- the plan: which repair belongs to which finding, and which roots it needs -------

plan_finding_of() {
	case $1 in
	'R-23ab24527b-1') PLAN_F='F-23ab24527b' ;;
	'R-23ab24527b-2') PLAN_F='F-23ab24527b' ;;
	'R-81cefb184d-1') PLAN_F='F-81cefb184d' ;;
	'R-81cefb184d-2') PLAN_F='F-81cefb184d' ;;
	'R-7229941f5b-1') PLAN_F='F-7229941f5b' ;;
	'R-7229941f5b-2') PLAN_F='F-7229941f5b' ;;
	*) PLAN_F= ; return 1 ;;
	esac
}

plan_default_of() {
	case $1 in
	'F-23ab24527b') PLAN_D='R-23ab24527b-1' ;;
	*) PLAN_D= ;;
	esac
}

plan_roots_of() {
	case $1 in
	'R-23ab24527b-1') PLAN_R='data' ;;
	'R-23ab24527b-2') PLAN_R='data host' ;;
	'R-81cefb184d-1') PLAN_R='data host' ;;
	'R-81cefb184d-2') PLAN_R='data' ;;
	'R-7229941f5b-1') PLAN_R='data host' ;;
	'R-7229941f5b-2') PLAN_R='data' ;;
	*) PLAN_R= ;;
	esac
}

# --- arguments ------------------------------------------------------------------------

usage() {
	say "usage: sh repair.sh [--apply] [--only FINDING_ID]... [--choose REPAIR_ID]..."
	say "                    [--host-root DIR] [--data-root DIR]"
	say "Without --apply nothing is changed: the script prints what it would do."
}

die() {
	say "repair.sh: $*" >&2
	exit 2
}

in_list() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

check_id() {
	case $1 in
	'' | *[!A-Za-z0-9._-]*) die "not a valid id: $(printf '%s' "$1" | tr -c ' -~' '?')" ;;
	esac
}

while [ $# -gt 0 ]; do
	_opt=$1
	_val=
	case $_opt in
	--*=*) _val=${_opt#*=}; _opt=${_opt%%=*} ;;
	--only | --choose | --data-root | --host-root)
		[ $# -ge 2 ] || die "$_opt needs a value"
		_val=$2
		shift
		;;
	esac
	case $_opt in
	--apply) APPLY=1 ;;
	--only) check_id "$_val"; ONLY="$ONLY $_val" ;;
	--choose) check_id "$_val"; CHOSEN="$CHOSEN $_val" ;;
	--data-root) OPT_DATA_ROOT=$_val ;;
	--host-root) OPT_HOST_ROOT=$_val ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $(printf '%s' "$_opt" | tr -c ' -~' '?')" ;;
	esac
	shift
done

# Every id is checked before anything happens.
for _f in $ONLY; do
	in_list "$_f" "$ALL_FINDINGS" || die "unknown finding id: $_f"
done
_chosen_findings=
for _r in $CHOSEN; do
	plan_finding_of "$_r" || die "unknown repair id: $_r"
	if [ -n "$ONLY" ] && ! in_list "$PLAN_F" "$ONLY"; then
		die "--choose $_r repairs $PLAN_F, which --only leaves out"
	fi
	if in_list "$PLAN_F" "$_chosen_findings"; then
		die "more than one repair chosen for $PLAN_F; choose one"
	fi
	_chosen_findings="$_chosen_findings $PLAN_F"
done

# Which repair each finding in scope runs: the chosen one, else its automatic one.
pick_for() {
	PICK=
	for _r in $CHOSEN; do
		plan_finding_of "$_r"
		if [ "$PLAN_F" = "$1" ]; then PICK=$_r; return; fi
	done
	plan_default_of "$1"
	PICK=$PLAN_D
}

NEED_DATA=0
NEED_HOST=0
[ "$APPLY" = 0 ] || NEED_DATA=1 # the undo log lives under the data root
for _f in $ALL_FINDINGS; do
	if [ -n "$ONLY" ] && ! in_list "$_f" "$ONLY"; then continue; fi
	pick_for "$_f"
	[ -n "$PICK" ] || continue
	plan_roots_of "$PICK"
	in_list data "$PLAN_R" && NEED_DATA=1
	in_list host "$PLAN_R" && NEED_HOST=1
done

# A root the run needs but nobody named (the scan read a snapshot): --apply stops and names
# every one of them; a dry run goes on and marks each step it could not check.
_missing=
[ "$NEED_DATA" = 0 ] || [ -n "${OPT_DATA_ROOT:-$ANALYSED_DATA_ROOT}" ] || _missing="--data-root DIR"
[ "$NEED_HOST" = 0 ] || [ -n "${OPT_HOST_ROOT:-$ANALYSED_HOST_ROOT}" ] ||
	_missing="${_missing:+$_missing }--host-root DIR"
if [ -n "$_missing" ] && [ "$APPLY" = 1 ]; then
	die "the scan read a snapshot, so give where its roots are on this machine: $_missing (for example --host-root /mnt/sysimage --data-root /mnt/sysimage/var/lib/docker)"
fi

# Resolve a root to its pwd -P form; every step compares against it.
resolve_root() {
	# $1 what (data|host) $2 given $3 needed
	[ -n "$2" ] || return 0
	if ! _p=$(cd -P -- "$2" 2>/dev/null && pwd -P); then
		[ "$3" = 0 ] || die "the $1 root cannot be entered: $(printf '%s' "$2" | tr -c ' -~' '?')"
		return 0
	fi
	printf '%s' "$_p"
}
DATA_P=$(resolve_root data "${OPT_DATA_ROOT:-$ANALYSED_DATA_ROOT}" "$NEED_DATA") || exit 2
HOST_P=$(resolve_root host "${OPT_HOST_ROOT:-$ANALYSED_HOST_ROOT}" "$NEED_HOST") || exit 2

# Mode, owner, group and mtime of ./NAME, as digits. Sets MODE UIDV GIDV MTIME.
meta_of() {
	_meta=$(stat -c '%a %u %g %Y' -- "$1" 2>/dev/null) || return 1
	# shellcheck disable=SC2086
	set -- $_meta
	[ $# -eq 4 ] || return 1
	for _n in "$@"; do
		case $_n in '' | *[!0-9]*) return 1 ;; esac
	done
	MODE=$1 UIDV=$2 GIDV=$3 MTIME=$4
}

# --- runtime quoting for the undo log -----------------------------------------------------

# Print $1 as one shell word on one line, with a "/" sentinel that undo.sh strips: plain
# text single-quoted, anything else as octal printf escapes (this keeps a trailing
# newline, which $(...) would otherwise strip).
shq() {
	case $1 in
	*[!A-Za-z0-9_./@%+=:,-]*)
		_oct=$(printf '%s/' "$1" | od -An -v -to1 | tr -d '\n' | sed 's/  */\\/g')
		# shellcheck disable=SC2016 # the $(...) is written out for undo.sh, not run here
		printf '"$(printf '\''%s'\'')"' "$_oct"
		;;
	*) printf "'%s/'" "$1" ;;
	esac
}

root_dir() {
	if [ "$1" = data ]; then ROOT_P=$DATA_P; else ROOT_P=$HOST_P; fi
	[ -n "$ROOT_P" ]
}

enter() {
	if ! root_dir "$1"; then
		WHY="the $1 root is not known (give --$1-root)"
		return 1
	fi
	enter_dir "$ROOT_P" "$2"
}

# Create one folder of our own (0700), refusing anything that is already there but is not
# a plain directory.
make_own_dir() {
	if [ -L "$1" ]; then
		return 1
	elif [ -d "$1" ]; then
		return 0
	elif [ -e "$1" ]; then
		return 1
	fi
	mkdir -m 700 -- "$1"
}

# The quarantine folder <data-root>/docker-analyzer-quarantine/<run>, made one level at a
# time just before the first change; it holds the undo log and undo.sh. It is made in a
# subshell so that the caller stays in its checked folder. Sets QDIR.
quarantine_make() {
	enter data "" || { say "    cannot enter the data root: $WHY"; return 1; }
	make_own_dir "./$QUARANTINE" || { say "    cannot make ./$QUARANTINE"; return 1; }
	enter_dir "$DATA_P" "$QUARANTINE" || { say "    $QUARANTINE: $WHY"; return 1; }
	make_own_dir "./$RUN_ID" || { say "    cannot make $QUARANTINE/$RUN_ID"; return 1; }
	enter_dir "$DATA_P" "$QUARANTINE/$RUN_ID" || { say "    $QUARANTINE/$RUN_ID: $WHY"; return 1; }
	if [ ! -e ./undo.sh ] && [ ! -L ./undo.sh ]; then
		if ! write_undo_script || ! chmod 700 ./undo.sh; then
			say "    cannot write undo.sh"
			return 1
		fi
	fi
	if [ ! -e ./undo.log ] && [ ! -L ./undo.log ]; then
		(set -C; say "# docker-analyzer run $RUN_ID: one record per change; undo.sh replays them newest first" >./undo.log) || {
			say "    cannot start undo.log"
			return 1
		}
	fi
	if [ -L ./undo.log ] || [ ! -f ./undo.log ]; then
		say "    undo.log is not a regular file"
		return 1
	fi
}

quarantine_ready() {
	[ -z "$QDIR" ] || return 0
	if ! (quarantine_make); then
		WHY="the undo log cannot be kept in <data-root>/$QUARANTINE/$RUN_ID"
		return 1
	fi
	QDIR=${DATA_P%/}/$QUARANTINE/$RUN_ID
}

# Append one record: FUNCTION ROOT PARENT NAME FIELDS..., each field a one-line word.
# A change that cannot be recorded stops the whole script: nothing more is changed.
log_undo() {
	if [ -z "$QDIR" ]; then
		say "FATAL: no undo log is open; stopping." >&2
		exit 1
	fi
	_rec=$1
	shift
	root_dir "$1"
	_rec="$_rec $(shq "$ROOT_P")"
	shift
	for _field in "$@"; do
		_rec="$_rec $(shq "$_field")"
	done
	if ! printf '%s\n' "$_rec" >>"$QDIR/undo.log"; then
		say "FATAL: a change was made but could not be recorded in $QDIR/undo.log; stopping." >&2
		exit 1
	fi
}

# --- reporting ------------------------------------------------------------------------

container_begin() {
	# $1 short id $2 name (escaped)
	say ""
	say "== container $2 ($1)"
}

# A finding in scope with no repair picked (none automatic, none chosen) waits for the
# admin: it is listed at the end with its choices, and the run does not end as if done.
# One whose repairs are all instructions (no step a script could do) is left to do by hand.
finding_waits() {
	if [ -n "$CUR_F" ] && [ -n "$CUR_OPTS" ]; then
		if [ "$CUR_SCRIPTED" = 1 ]; then
			WAITING="$WAITING
  $CUR_F: --choose one of$CUR_OPTS"
		else
			LEFT="$LEFT
  $CUR_F: $CUR_TITLE"
		fi
	fi
	CUR_F=
	CUR_OPTS=
	CUR_SCRIPTED=0
}

finding_begin() {
	# $1 finding id $2 severity $3 title (escaped)
	finding_waits
	F_ON=1
	if [ -n "$ONLY" ] && ! in_list "$1" "$ONLY"; then F_ON=0; fi
	say ""
	if [ "$F_ON" = 0 ]; then
		say "$1 [$2] $3 (left out by --only)"
		PICK=
		return
	fi
	say "$1 [$2] $3"
	pick_for "$1"
	[ -n "$PICK" ] || { CUR_F=$1; CUR_TITLE=$3; }
}

repair_begin() {
	# $1 repair id $2 automatic (1|0) $3 title (escaped) $4 scripted steps (1|0)
	if [ "$2" = 1 ]; then _tag="[automatic]"; else _tag="[choose with --choose $1]"; fi
	if [ -n "$CUR_F" ]; then
		CUR_OPTS="$CUR_OPTS $1"
		[ "${4:-1}" = 0 ] || CUR_SCRIPTED=1
	fi
	R_ON=0
	R_PENDING=0
	R_LAST_DIR=
	if [ "$F_ON" = 1 ] && [ -n "$PICK" ] && [ "$PICK" = "$1" ]; then
		R_ON=1
		if [ "${4:-1}" = 0 ]; then
			_tag="$_tag (chosen: to do by hand)"
		elif [ "$APPLY" = 1 ]; then
			_tag="$_tag (applying)"
		else
			_tag="$_tag (would apply)"
		fi
	fi
	say "  $1 $_tag $3"
}

note() {
	say "      $1"
}

# An error finding with no repair at all: nothing here can change it; the run lists it
# among what is left to do by hand, so it cannot end as if everything were done.
no_repair() {
	[ "$F_ON" = 1 ] || return 0
	say "  (no repair: see the report)"
	LEFT="$LEFT
  $CUR_F: $CUR_TITLE"
	CUR_F=
	CUR_OPTS=
}

# A repair whose steps only clear the place (restoring a host file): once its steps ran,
# or would run, the admin still has to put the content back before the container starts.
still_by_hand() {
	[ "$R_ON" = 1 ] || return 0
	AFTER="$AFTER
  $1"
}

# A repair with no scripted steps (instructions only): choosing it does not change
# anything, so the run must not end as if it were done.
by_hand() {
	[ "$R_ON" = 1 ] || return 0
	say "    BY HAND: this repair has no scripted steps; do what the lines above say yourself"
	MANUAL=1
}

# A step that cannot run prints what it would change and stops here (return 1).
# R_ON: 0 not selected, 1 running, 2 stopped by an earlier failure.
step_begin() {
	# $1 what the step does (escaped) $2 root $3 shown path (escaped)
	if [ "$2" = data ]; then _root_shown="<data-root>"; else _root_shown="<host-root>"; fi
	STEP="$1 $_root_shown/$3"
	STEP_ROOT=$2
	case $R_ON in
	0) say "    - $STEP"; return 1 ;;
	2) say "    - $STEP: not attempted (see above)"; return 1 ;;
	esac
	return 0
}

step_skip() {
	say "    SKIPPED $STEP: $1"
	FAILED=1
	R_ON=2
}

# A step whose folder does not exist yet may depend on an earlier step of the same
# repair that a dry run only announced.
step_unreachable() {
	if [ "$APPLY" = 0 ] && ! root_dir "$STEP_ROOT"; then
		say "    would $STEP (not checked: the $STEP_ROOT root is not known)"
		unchecked "$STEP_ROOT"
		R_PENDING=1
	elif [ "$APPLY" = 0 ] && [ "$R_PENDING" = 1 ]; then
		say "    would $STEP (after the steps above)"
	else
		step_skip "$WHY"
	fi
}

# Remember that a dry run could not check something against the disk: which root it lacked.
unchecked() {
	case $UNCHECKED in *"--$1-root"*) return 0 ;; esac
	UNCHECKED="$UNCHECKED --$1-root DIR"
}

step_would() {
	say "    would $STEP"
	R_PENDING=1
}

cannot_render() {
	say "    SKIPPED: this repair cannot be run by the script: $1"
	if [ "$R_ON" = 1 ]; then
		FAILED=1
		R_ON=2
	fi
}

# --- checks before touching a container -------------------------------------------------

# The anchor: <data-root>/PARENT/NAME still holds exactly the analysed mount id.
anchor_ok() {
	# $1 parent $2 ./name $3 mount id
	enter data "$1" || return 1
	if [ -L "$2" ] || [ ! -f "$2" ]; then
		WHY="the layer record is missing: the container was removed or recreated"
		return 1
	fi
	_got=$(cat -- "$2"; echo .)
	if [ "$_got" != "$3." ]; then
		WHY="the layer record names another layer: the container was recreated"
		return 1
	fi
}

# A running container has its layer mounted: some mount point ends with SUFFIX (already
# escaped the way mountinfo escapes spaces and backslashes).
layer_mounted() {
	if [ ! -r /proc/self/mountinfo ]; then
		WHY="/proc/self/mountinfo cannot be read, so a running container cannot be ruled out"
		return 0
	fi
	if SUFFIX=$1 awk 'BEGIN { s = ENVIRON["SUFFIX"]; n = length(s); found = 0 }
		length($5) >= n && substr($5, length($5) - n + 1) == s { found = 1 }
		END { exit !found }' /proc/self/mountinfo; then
		WHY="its layer is mounted: the container is running (stop it first)"
		return 0
	fi
	return 1
}

check_container() {
	# $1 short id (shown) $2 parent $3 ./name $4 mount id $5 mount point suffix
	# $6 the container's key (c + hex digits of its full id): what the checked lists hold
	[ "$R_ON" = 1 ] || return 0
	if [ "$APPLY" = 0 ] && ! root_dir data; then
		say "    not checked: container $1 is the one analysed and is not running (the data root is not known)"
		unchecked data
		return 0
	fi
	if in_list "$6" "$C_OK"; then return 0; fi
	if in_list "$6" "$C_BAD"; then
		say "    SKIPPED: container $1 failed its checks (see above)"
		FAILED=1
		R_ON=2
		return 0
	fi
	if anchor_ok "$2" "$3" "$4" && ! layer_mounted "$5"; then
		C_OK="$C_OK $6"
		say "    checked: container $1 is the one analysed and is not running"
		return 0
	fi
	C_BAD="$C_BAD $6"
	say "    SKIPPED: container $1 is left alone: $WHY"
	FAILED=1
	R_ON=2
}

# Which dockerd, if any, serves DATA_P: compare the pwd -P form of each dockerd's data
# root (--data-root, -g, --graph, else daemon.json's data-root, else /var/lib/docker).
# A dockerd in another pid namespace is not visible from here.
dockerd_serving() {
	DATA_ID=$(stat -L -c '%d:%i' -- "$DATA_P" 2>/dev/null) || DATA_ID=
	set +f
	for _d in /proc/[0-9]*; do
		set -f
		[ -r "$_d/comm" ] || continue
		_comm=$(cat -- "$_d/comm" 2>/dev/null) || continue
		[ "$_comm" = dockerd ] || continue
		_args=$(tr '\000' '\n' <"$_d/cmdline" 2>/dev/null) || continue
		_dr=
		_cfg=/etc/docker/daemon.json
		_prev=
		while IFS= read -r _a; do
			case $_prev in
			--data-root | -g | --graph) _dr=$_a ;;
			--config-file) _cfg=$_a ;;
			esac
			case $_a in
			--data-root=* | --graph=* | -g=*) _dr=${_a#*=} ;;
			--config-file=*) _cfg=${_a#*=} ;;
			esac
			_prev=$_a
		done <<EOF
$_args
EOF
		# Paths on its command line are in its own root and mount namespace (a chroot, a
		# container, unshare -m): look at them through /proc/PID/root, and compare device
		# and inode, which mean the same object in every namespace.
		_pr=$_d/root
		if [ -z "$_dr" ] && [ -r "$_pr$_cfg" ]; then
			_dr=$(sed -n -e 's/.*"data-root"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' \
				-e 's/.*"graph"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$_pr$_cfg" | head -n 1)
		fi
		[ -n "$_dr" ] || _dr=/var/lib/docker
		case $_dr in
		/*) ;;
		*) DAEMON_PID=${_d#/proc/}; return 0 ;; # relative: cannot tell, assume it does
		esac
		_theirs=$(stat -L -c '%d:%i' -- "$_pr$_dr" 2>/dev/null) || _theirs=
		_plain=$(stat -L -c '%d:%i' -- "$_dr" 2>/dev/null) || _plain=
		if [ -n "$DATA_ID" ] && { [ "$_theirs" = "$DATA_ID" ] || [ "$_plain" = "$DATA_ID" ]; }; then
			DAEMON_PID=${_d#/proc/}
			return 0
		fi
		if [ -z "$_theirs" ] && [ ! -r "$_pr/" ] && [ -e "$_d/comm" ]; then
			DAEMON_PID=${_d#/proc/}; return 0 # its root cannot be read: assume it serves
		fi
	done
	set -f
	return 1
}

check_daemon_stopped() {
	[ "$R_ON" = 1 ] || return 0
	if [ "$APPLY" = 0 ] && [ -z "$DATA_P" ]; then
		say "    not checked: no dockerd serves the data root (the data root is not known)"
		unchecked data
		return 0
	fi
	if [ -z "$DAEMON_STATE" ]; then
		DAEMON_PID=
		if [ -z "$DATA_P" ]; then
			DAEMON_STATE="the data root is not known (give --data-root)"
		elif dockerd_serving; then
			DAEMON_STATE="dockerd (pid $DAEMON_PID) serves this data root: stop it first"
		else
			DAEMON_STATE=ok
		fi
	fi
	if [ "$DAEMON_STATE" != ok ]; then
		say "    SKIPPED: $DAEMON_STATE"
		FAILED=1
		R_ON=2
	fi
}

# --- steps ------------------------------------------------------------------------------
# Each step: ROOT PARENT ./NAME SHOWN [...]. It enters ROOT/PARENT (checked with pwd -P),
# looks at ./NAME without following a symlink, and acts only on the state it expects.

remove_empty_file() {
	step_begin "remove the empty file" "$1" "$4" || return 0
	enter "$1" "$2" || { step_unreachable; return 0; }
	kind_of "$3"
	case $KIND in
	absent) say "    nothing to do: $STEP (already absent)"; return 0 ;;
	empty_file) ;;
	*) step_skip "it is now $(kind_words "$KIND"), not an empty file"; return 0 ;;
	esac
	[ "$APPLY" = 1 ] || { step_would; return 0; }
	quarantine_ready || { step_skip "$WHY"; return 0; }
	if ! meta_of "$3" || ! _pm=$(mtime_of .); then step_skip "cannot read its mode and owner"; return 0; fi
	rm -f -- "$3" || { step_skip "rm failed"; return 0; }
	log_undo undo_rmfile "$1" "$2" "$3" "$MODE" "$UIDV" "$GIDV" "$MTIME" "$_pm"
	say "    done: $STEP"
}

remove_empty_dir() {
	step_begin "remove the empty directory" "$1" "$4" || return 0
	enter "$1" "$2" || { step_unreachable; return 0; }
	kind_of "$3"
	case $KIND in
	absent) say "    nothing to do: $STEP (already absent)"; return 0 ;;
	empty_dir) ;;
	*) step_skip "it is now $(kind_words "$KIND"), not an empty directory"; return 0 ;;
	esac
	[ "$APPLY" = 1 ] || { step_would; return 0; }
	quarantine_ready || { step_skip "$WHY"; return 0; }
	if ! meta_of "$3" || ! _pm=$(mtime_of .); then step_skip "cannot read its mode and owner"; return 0; fi
	rmdir -- "$3" || { step_skip "rmdir failed"; return 0; }
	log_undo undo_rmdir "$1" "$2" "$3" "$MODE" "$UIDV" "$GIDV" "$MTIME" "$_pm"
	say "    done: $STEP"
}

# Move something with content aside, never deleting it: into the quarantine folder for
# the data root (same filesystem, checked), beside itself as NAME.docker-analyzer-RUN on
# the host.
quarantine() {
	# $5 expected state (exists|empty_file|empty_dir) $6 slot name in the quarantine folder
	if [ "$1" = data ]; then
		_dest_shown="<data-root>/$QUARANTINE/$RUN_ID/$6"
	else
		_dest_shown="<host-root>/$4.docker-analyzer-$RUN_ID"
	fi
	step_begin "move aside (to $_dest_shown)" "$1" "$4" || return 0
	enter "$1" "$2" || { step_unreachable; return 0; }
	kind_of "$3"
	case $5:$KIND in
	*:absent) say "    nothing to do: $STEP (already absent)"; return 0 ;;
	*:symlink | *:other) step_skip "it is now $(kind_words "$KIND")"; return 0 ;;
	exists:* | empty_file:empty_file | empty_dir:empty_dir) ;;
	*) step_skip "it is now $(kind_words "$KIND")"; return 0 ;;
	esac
	[ "$APPLY" = 1 ] || { step_would; return 0; }
	quarantine_ready || { step_skip "$WHY"; return 0; }
	if [ "$1" = data ]; then
		_dest_dir=$QDIR
		_dest_name=$6
	else
		_dest_dir=$HERE
		_dest_name=${3#./}.docker-analyzer-$RUN_ID
	fi
	if [ -e "$_dest_dir/$_dest_name" ] || [ -L "$_dest_dir/$_dest_name" ]; then
		step_skip "the place to move it to is taken"
		return 0
	fi
	_dev_src=$(stat -c %d -- "$3" 2>/dev/null) || _dev_src=src
	_dev_dst=$(stat -c %d -- "$_dest_dir" 2>/dev/null) || _dev_dst=dst
	if [ "$_dev_src" != "$_dev_dst" ]; then
		step_skip "it is on another filesystem than the quarantine folder; move it by hand"
		return 0
	fi
	_pm=$(mtime_of .) || { step_skip "cannot read its folder's mtime"; return 0; }
	mv -- "$3" "$_dest_dir/$_dest_name" || { step_skip "mv failed"; return 0; }
	log_undo undo_quarantine "$1" "$2" "$3" "$_dest_dir" "$_dest_name" "$_pm"
	say "    done: $STEP"
}

# Set mode, owner and mtime of a new entry. chmod follows chown, which clears set-id bits.
finish_entry() {
	# $1 ./name $2 mode $3 uid $4 gid $5 mtime or empty
	chown "$3:$4" -- "$1" && chmod "$2" -- "$1" || return 1
	[ -z "$5" ] || touch -d "@$5" -- "$1"
}

# A folder this repair just made keeps the mtime it was given: put it back after adding
# an entry to it.
keep_made_parent_mtime() {
	if [ -n "$R_LAST_DIR" ] && [ "$R_LAST_DIR" = "$HERE" ]; then
		touch -d "@$1" . 2>/dev/null || true
	fi
}

make_dir() {
	# $5 mode $6 uid $7 gid $8 mtime (may be empty)
	step_begin "make the directory" "$1" "$4" || return 0
	enter "$1" "$2" || { step_unreachable; return 0; }
	kind_of "$3"
	case $KIND in
	absent) ;;
	empty_dir | dir) say "    nothing to do: $STEP (already a directory)"; R_LAST_DIR=; return 0 ;;
	*) step_skip "it is now $(kind_words "$KIND")"; return 0 ;;
	esac
	[ "$APPLY" = 1 ] || { step_would; return 0; }
	quarantine_ready || { step_skip "$WHY"; return 0; }
	_pm=$(mtime_of .) || { step_skip "cannot read its folder's mtime"; return 0; }
	mkdir -m "$5" -- "$3" || { step_skip "mkdir failed"; return 0; }
	log_undo undo_mkdir "$1" "$2" "$3" "$_pm"
	finish_entry "$3" "$5" "$6" "$7" "$8" || { step_skip "cannot set its owner, mode or mtime"; return 0; }
	keep_made_parent_mtime "$_pm"
	R_LAST_DIR=${HERE%/}/${3#./}
	say "    done: $STEP"
}

make_empty_file() {
	# $5 mode $6 uid $7 gid $8 mtime (may be empty)
	step_begin "make the empty file" "$1" "$4" || return 0
	enter "$1" "$2" || { step_unreachable; return 0; }
	kind_of "$3"
	case $KIND in
	absent) ;;
	empty_file) say "    nothing to do: $STEP (already an empty file)"; return 0 ;;
	*) step_skip "it is now $(kind_words "$KIND")"; return 0 ;;
	esac
	[ "$APPLY" = 1 ] || { step_would; return 0; }
	quarantine_ready || { step_skip "$WHY"; return 0; }
	_pm=$(mtime_of .) || { step_skip "cannot read its folder's mtime"; return 0; }
	(set -C; : >"$3") || { step_skip "cannot create it"; return 0; }
	log_undo undo_mkfile "$1" "$2" "$3" "$_pm"
	finish_entry "$3" "$5" "$6" "$7" "$8" || { step_skip "cannot set its owner, mode or mtime"; return 0; }
	keep_made_parent_mtime "$_pm"
	say "    done: $STEP"
}

make_symlink() {
	# $5 target
	step_begin "make the symlink" "$1" "$4" || return 0
	enter "$1" "$2" || { step_unreachable; return 0; }
	kind_of "$3"
	case $KIND in
	absent) ;;
	symlink)
		_target=$(readlink -- "$3"; echo .)
		if [ "${_target%??}" = "$5" ]; then
			say "    nothing to do: $STEP (already there)"
		else
			step_skip "a symlink pointing elsewhere is there"
		fi
		return 0
		;;
	*) step_skip "it is now $(kind_words "$KIND")"; return 0 ;;
	esac
	[ "$APPLY" = 1 ] || { step_would; return 0; }
	quarantine_ready || { step_skip "$WHY"; return 0; }
	_pm=$(mtime_of .) || { step_skip "cannot read its folder's mtime"; return 0; }
	ln -s -- "$5" "$3" || { step_skip "ln failed"; return 0; }
	log_undo undo_mklink "$1" "$2" "$3" "$5" "$_pm"
	keep_made_parent_mtime "$_pm"
	say "    done: $STEP"
}

write_undo_script() {
	(set -C; cat >./undo.sh) <<'DOCKER_ANALYZER_UNDO_EOF'
#!/bin/sh
# shellcheck disable=SC2317 # helpers are called from eval'd log records
# Undo for docker-analyzer repair run 20260101T000000Z.
#
# Replays undo.log (beside this script) backwards: each change the repair script made
# is reverted only if the path is still exactly as the repair left it.
# Usage: sh undo.sh [--apply]
# Without --apply it only prints what it would do.
# Exit status: 0 all done or nothing to do, 1 something was skipped, 2 bad arguments.

set -u
set -f
LC_ALL=C
export LC_ALL
unset CDPATH
umask 077

RUN_ID='20260101T000000Z'
APPLY=0
FAILED=0
WHY=
HERE=
KIND=
# --- shared helpers (repair.sh and undo.sh) -------------------------------------------

say() {
	printf '%s\n' "$*"
}

# Enter ROOT/PARENT without trusting any symlink on the way: cd -P resolves the path,
# and pwd -P must then equal the path we meant. A symlink swapped into the path after
# the scan makes the two differ, and the step is refused. Sets HERE.
enter_dir() {
	if [ -z "$2" ]; then
		want=$1
	else
		want=${1%/}/$2
	fi
	if ! cd -P -- "$want" 2>/dev/null; then
		WHY="its folder cannot be entered"
		return 1
	fi
	# The "." sentinel keeps a folder name that ends in a newline intact.
	HERE=$(pwd -P; echo .)
	HERE=${HERE%??}
	if [ "$HERE" != "$want" ]; then
		WHY="its folder resolves to somewhere else (a symlink in the path?)"
		return 1
	fi
	return 0
}

# An empty directory has no entry at all, dot files included. ls -A lists them; if ls
# fails (unreadable), the directory counts as not empty.
dir_is_empty() {
	_entries=$(ls -A -- "$1" 2>/dev/null) || return 1
	[ -z "$_entries" ]
}

# Classify ./NAME, testing -L before anything that follows a symlink. Sets KIND.
kind_of() {
	if [ -L "$1" ]; then
		KIND=symlink
	elif [ ! -e "$1" ]; then
		KIND=absent
	elif [ -f "$1" ]; then
		if [ -s "$1" ]; then KIND='file'; else KIND='empty_file'; fi
	elif [ -d "$1" ]; then
		if dir_is_empty "$1"; then KIND=empty_dir; else KIND=dir; fi
	else
		KIND=other
	fi
}

kind_words() {
	case $1 in
	symlink) echo "a symlink" ;;
	absent) echo "absent" ;;
	file) echo "a file with content" ;;
	empty_file) echo "an empty file" ;;
	dir) echo "a directory with entries" ;;
	empty_dir) echo "an empty directory" ;;
	*) echo "neither a file nor a directory" ;;
	esac
}

mtime_of() {
	_mt=$(stat -c '%Y' -- "$1" 2>/dev/null) || return 1
	case $_mt in '' | *[!0-9]*) return 1 ;; esac
	printf '%s' "$_mt"
}

# --- undo ---------------------------------------------------------------------------

usage() {
	say "usage: sh undo.sh [--apply]"
	say "Reverts docker-analyzer repair run $RUN_ID from undo.log; dry run without --apply."
}

while [ $# -gt 0 ]; do
	case $1 in
	--apply) APPLY=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

# Every field in the log ends in a "/" sentinel, so that $(...) cannot strip a trailing
# newline from a name; strip it here.
strip() {
	S1=${1%/} S2=${2%/} S3=${3%/}
	S3=${S3#./}
	S3=./$S3
}

# A dry run cannot remove anything, so a folder whose entries an earlier record would
# remove still has them: remember those folders (newline-separated, for this message only).
NL='
'
DRY_EMPTIED=$NL

skip() {
	say "  SKIPPED $1: $2"
	FAILED=1
}

# ROOT PARENT ./NAME as one path for people: control and non-ASCII bytes become "?".
shown() {
	_p=${1%/}
	[ -z "$2" ] || _p=$_p/$2
	[ -z "$3" ] || _p=$_p/${3#./}
	printf '%s' "$_p" | tr -c ' -~' '?'
}

would_or_do() {
	if [ "$APPLY" = 0 ]; then
		say "  would $1"
		return 1
	fi
	return 0
}

# The parent's mtime, recorded before the repair changed it, is put back last.
restore_parent_mtime() {
	touch -d "@$1" . 2>/dev/null || say "  note: could not restore the folder's mtime"
}

make_entry() {
	# $1 kind (file|dir) $2 ./name $3 mode $4 uid $5 gid $6 mtime
	if [ "$1" = dir ]; then
		mkdir -m "$3" -- "$2" || return 1
	else
		(set -C; : >"$2") || return 1
	fi
	chown "$4:$5" -- "$2" && chmod "$3" -- "$2" && touch -d "@$6" -- "$2"
}

undo_recreate() {
	# $1 kind $2 root $3 parent $4 ./name $5 mode $6 uid $7 gid $8 mtime $9 parent mtime
	_kind=$1
	shift
	strip "$1" "$2" "$3"
	_what=$(printf 'recreate the empty %s %s' "$_kind" "$(shown "$S1" "$S2" "$S3")")
	if ! enter_dir "$S1" "$S2"; then skip "$_what" "$WHY"; return; fi
	kind_of "$S3"
	case $KIND in
	absent) ;;
	"empty_$_kind") say "  nothing to do: $_what (already there)"; return ;;
	*) skip "$_what" "it is now $(kind_words "$KIND")"; return ;;
	esac
	would_or_do "$_what" || return
	if make_entry "$_kind" "$S3" "${4%/}" "${5%/}" "${6%/}" "${7%/}"; then
		restore_parent_mtime "${8%/}"
		say "  done: $_what"
	else
		skip "$_what" "the command failed"
	fi
}

undo_rmfile() {
	undo_recreate file "$@"
}

undo_rmdir() {
	undo_recreate dir "$@"
}

undo_remove_made() {
	# $1 kind (dir|file|symlink) $2 root $3 parent $4 ./name $5 parent mtime [$6 target]
	_kind=$1
	shift
	strip "$1" "$2" "$3"
	_what=$(printf 'remove the %s %s' "$_kind" "$(shown "$S1" "$S2" "$S3")")
	if ! enter_dir "$S1" "$S2"; then
		if [ ! -e "$want" ] && [ ! -L "$want" ]; then
			say "  nothing to do: $_what (its folder is gone too)"
		else
			skip "$_what" "$WHY"
		fi
		return
	fi
	kind_of "$S3"
	case $_kind:$KIND in
	*:absent) say "  nothing to do: $_what (already absent)"; return ;;
	dir:empty_dir | file:empty_file) ;;
	dir:dir)
		case $DRY_EMPTIED in
		*"$NL${HERE%/}/${S3#./}$NL"*)
			if [ "$APPLY" = 0 ]; then
				say "  would $_what (after the steps above)"
				DRY_EMPTIED="$DRY_EMPTIED$HERE$NL"
				return
			fi
			;;
		esac
		skip "$_what" "it is now $(kind_words "$KIND")"
		return
		;;
	symlink:symlink)
		_target=$(readlink -- "$S3"; echo .)
		if [ "${_target%??}" != "${5%/}" ]; then
			skip "$_what" "it now points somewhere else"
			return
		fi
		;;
	*) skip "$_what" "it is now $(kind_words "$KIND")"; return ;;
	esac
	if ! would_or_do "$_what"; then
		DRY_EMPTIED="$DRY_EMPTIED$HERE$NL"
		return
	fi
	if [ "$_kind" = dir ]; then rmdir -- "$S3"; else rm -f -- "$S3"; fi || {
		skip "$_what" "the command failed"
		return
	}
	restore_parent_mtime "${4%/}"
	say "  done: $_what"
}

undo_mkdir() {
	undo_remove_made dir "$@"
}

undo_mkfile() {
	undo_remove_made file "$@"
}

undo_mklink() {
	# root parent name target parent-mtime -> reorder for undo_remove_made
	undo_remove_made symlink "$1" "$2" "$3" "$5" "$4"
}

undo_quarantine() {
	# $1 root $2 parent $3 ./name $4 folder it was moved to $5 name there $6 parent mtime
	strip "$1" "$2" "$3"
	_from=${4%/}/${5%/}
	_what=$(printf 'move %s back to %s' "$(shown "$_from" "" "")" "$(shown "$S1" "$S2" "$S3")")
	if ! enter_dir "$S1" "$S2"; then skip "$_what" "$WHY"; return; fi
	kind_of "$S3"
	if [ "$KIND" != absent ]; then
		if [ ! -e "$_from" ] && [ ! -L "$_from" ]; then
			say "  nothing to do: $_what (already back)"
		else
			skip "$_what" "the place is taken: it is now $(kind_words "$KIND")"
		fi
		return
	fi
	if [ -L "$_from" ] || [ ! -e "$_from" ]; then
		skip "$_what" "the moved copy is missing or replaced by a symlink"
		return
	fi
	would_or_do "$_what" || return
	if mv -- "$_from" "$S3"; then
		restore_parent_mtime "${6%/}"
		say "  done: $_what"
	else
		skip "$_what" "the command failed"
	fi
}

if ! LOGDIR=$(cd -P -- "$(dirname -- "$0")" && pwd -P); then
	say "cannot find the folder of this script" >&2
	exit 2
fi
LOG=$LOGDIR/undo.log
if [ ! -f "$LOG" ] || [ -L "$LOG" ]; then
	say "no undo log at $LOG: nothing was changed by run $RUN_ID" >&2
	exit 0
fi

if [ "$APPLY" = 1 ]; then
	say "Undoing docker-analyzer repair run $RUN_ID (newest change first)."
else
	say "Dry run: nothing is changed. Undo of run $RUN_ID would do this (add --apply):"
fi

# Newest change first: reverse the log (sed, since tac is not POSIX). Every record is
# one line: the repair script wrote each field as a one-line quoted word.
REVERSED=$(sed -n '1!G;h;$p' "$LOG")
while IFS= read -r record; do
	case $record in
	'' | '#'*) ;;
	'undo_rmfile '* | 'undo_rmdir '* | 'undo_mkdir '* | 'undo_mkfile '* | 'undo_mklink '* | 'undo_quarantine '*)
		eval "$record"
		;;
	*)
		say "  SKIPPED a record this script does not know"
		FAILED=1
		;;
	esac
done <<EOF
$REVERSED
EOF

if [ "$FAILED" = 0 ]; then
	exit 0
fi
say "Some changes were not undone; see SKIPPED above."
exit 1
DOCKER_ANALYZER_UNDO_EOF
}

# --- the findings -----------------------------------------------------------------------

if [ "$APPLY" = 1 ]; then
	say "Applying docker-analyzer repairs (run $RUN_ID)."
else
	say "Dry run: nothing is changed. With --apply this script would do the following."
fi

# === container blog-ghost-1 (7e054c11de49)
container_begin '7e054c11de49' 'blog-ghost-1'

# --- F-23ab24527b [error]: /srv/blog/config.json is now a directory, the container expects a file at /etc/ghost/config.production.json
finding_begin 'F-23ab24527b' error '/srv/blog/config.json is now a directory, the container expects a file at /etc/ghost/config.production.json'
# R-23ab24527b-1 [automatic]: Remove the stale empty file /etc/ghost/config.production.json from the container's upper dir
repair_begin 'R-23ab24527b-1' 1 'Remove the stale empty file /etc/ghost/config.production.json from the container'\''s upper dir' 1
note 'Start the container afterwards; runc creates a new mountpoint of the right kind.'
check_container '7e054c11de49' 'image/overlay2/layerdb/mounts/7e054c11de49be67f7cddc16a89c4131a573e71a59a62930b753179fca95f6a9' './mount-id' '904d3f2f27da361444be302b866432140523a74b5ae63a7cab779b2fa522ce04' '/904d3f2f27da361444be302b866432140523a74b5ae63a7cab779b2fa522ce04/merged' c2ca0a468ce5db3c8b59332b3515eb549
check_daemon_stopped
remove_empty_file data 'overlay2/904d3f2f27da361444be302b866432140523a74b5ae63a7cab779b2fa522ce04/diff/etc/ghost' './config.production.json' 'overlay2/904d3f2f27da361444be302b866432140523a74b5ae63a7cab779b2fa522ce04/diff/etc/ghost/config.production.json'
# R-23ab24527b-2 [choose with --choose R-23ab24527b-2]: Put the original file back at /srv/blog/config.json (the directory there, which holds data, is moved aside first)
repair_begin 'R-23ab24527b-2' 0 'Put the original file back at /srv/blog/config.json (the directory there, which holds data, is moved aside first)' 1
note 'After the script ran, copy the intended file to /srv/blog/config.json (from a backup, the project'\''s repository or the compose project folder); the script cannot invent its content. Then start the container. The directory that was at /srv/blog/config.json is kept beside it as config.json.docker-analyzer-<run>; look through it before deleting it.'
check_container '7e054c11de49' 'image/overlay2/layerdb/mounts/7e054c11de49be67f7cddc16a89c4131a573e71a59a62930b753179fca95f6a9' './mount-id' '904d3f2f27da361444be302b866432140523a74b5ae63a7cab779b2fa522ce04' '/904d3f2f27da361444be302b866432140523a74b5ae63a7cab779b2fa522ce04/merged' c2ca0a468ce5db3c8b59332b3515eb549
check_daemon_stopped
quarantine host 'srv/blog' './config.json' 'srv/blog/config.json' exists 'R-23ab24527b-2.1'
still_by_hand 'R-23ab24527b-2: Put the original file back at /srv/blog/config.json (the directory there, which holds data, is moved aside first)'

# === container queue-worker-1 (530b82c3a4ea)
container_begin '530b82c3a4ea' 'queue-worker-1'

# --- F-81cefb184d [error]: /tmp/queue.lock is now a directory, the container expects a file at /run/lock/queue.lock
finding_begin 'F-81cefb184d' error '/tmp/queue.lock is now a directory, the container expects a file at /run/lock/queue.lock'
# R-81cefb184d-1 [choose with --choose R-81cefb184d-1]: Put the original file back at /tmp/queue.lock (the empty directory there is removed first)
repair_begin 'R-81cefb184d-1' 0 'Put the original file back at /tmp/queue.lock (the empty directory there is removed first)' 1
note 'After the script ran, copy the intended file to /tmp/queue.lock (from a backup, the project'\''s repository or the compose project folder); the script cannot invent its content. Then start the container.'
check_container '530b82c3a4ea' 'image/overlay2/layerdb/mounts/530b82c3a4eab482b33b94e1251a2e321f5c7d1308aca9456ae8dee82072fb39' './mount-id' '9f4218556a577de48dbb0daba5dc69385e98a0302f25496377d0562e0b4de74b' '/9f4218556a577de48dbb0daba5dc69385e98a0302f25496377d0562e0b4de74b/merged' c8065026e6602cd1c8847a9dc582ec4b8
check_daemon_stopped
remove_empty_dir host 'tmp' './queue.lock' 'tmp/queue.lock'
still_by_hand 'R-81cefb184d-1: Put the original file back at /tmp/queue.lock (the empty directory there is removed first)'
# R-81cefb184d-2 [choose with --choose R-81cefb184d-2]: Remove the stale empty file /run/lock/queue.lock from the container's upper dir
repair_begin 'R-81cefb184d-2' 0 'Remove the stale empty file /run/lock/queue.lock from the container'\''s upper dir' 1
note 'Start the container afterwards; runc creates a new mountpoint of the right kind.'
check_container '530b82c3a4ea' 'image/overlay2/layerdb/mounts/530b82c3a4eab482b33b94e1251a2e321f5c7d1308aca9456ae8dee82072fb39' './mount-id' '9f4218556a577de48dbb0daba5dc69385e98a0302f25496377d0562e0b4de74b' '/9f4218556a577de48dbb0daba5dc69385e98a0302f25496377d0562e0b4de74b/merged' c8065026e6602cd1c8847a9dc582ec4b8
check_daemon_stopped
remove_empty_file data 'overlay2/9f4218556a577de48dbb0daba5dc69385e98a0302f25496377d0562e0b4de74b/diff/run/lock' './queue.lock' 'overlay2/9f4218556a577de48dbb0daba5dc69385e98a0302f25496377d0562e0b4de74b/diff/run/lock/queue.lock'

# === container shop-web-1 (77c5aeb6ebaf)
container_begin '77c5aeb6ebaf' 'shop-web-1'

# --- F-7229941f5b [error]: /srv/shop/nginx.conf is a directory, but the image has a file at /etc/nginx/nginx.conf
finding_begin 'F-7229941f5b' error '/srv/shop/nginx.conf is a directory, but the image has a file at /etc/nginx/nginx.conf'
# R-7229941f5b-1 [choose with --choose R-7229941f5b-1]: Put the original file back at /srv/shop/nginx.conf (the empty directory there is removed first)
repair_begin 'R-7229941f5b-1' 0 'Put the original file back at /srv/shop/nginx.conf (the empty directory there is removed first)' 1
note 'After the script ran, copy the intended file to /srv/shop/nginx.conf (from a backup, the project'\''s repository or the compose project folder); the script cannot invent its content. Then start the container.'
check_container '77c5aeb6ebaf' 'image/overlay2/layerdb/mounts/77c5aeb6ebaf161a6b5077ca13463b9811ed0ef4c0abf4ee07a9c4fd70757ac6' './mount-id' 'ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18' '/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/merged' c8a710f2c9f8efa05131d73910a9d85fe
check_daemon_stopped
remove_empty_dir host 'srv/shop' './nginx.conf' 'srv/shop/nginx.conf'
still_by_hand 'R-7229941f5b-1: Put the original file back at /srv/shop/nginx.conf (the empty directory there is removed first)'
# R-7229941f5b-2 [choose with --choose R-7229941f5b-2]: Hide the image's file at /etc/nginx/nginx.conf under an empty directory in the container's upper dir
repair_begin 'R-7229941f5b-2' 0 'Hide the image'\''s file at /etc/nginx/nginx.conf under an empty directory in the container'\''s upper dir' 1
note 'The container no longer sees the image'\''s copy; removing what the script made brings it back.'
check_container '77c5aeb6ebaf' 'image/overlay2/layerdb/mounts/77c5aeb6ebaf161a6b5077ca13463b9811ed0ef4c0abf4ee07a9c4fd70757ac6' './mount-id' 'ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18' '/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/merged' c8a710f2c9f8efa05131d73910a9d85fe
check_daemon_stopped
make_dir data 'overlay2/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/diff' './etc' 'overlay2/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/diff/etc' 0755 0 0 '1796328296'
make_dir data 'overlay2/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/diff/etc' './nginx' 'overlay2/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/diff/etc/nginx' 0755 0 0 '1700000000'
make_dir data 'overlay2/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/diff/etc/nginx' './nginx.conf' 'overlay2/ff0f5254dbd1f5fe6fb1d93b39d9ffd59d2b025a263047c936d3ad4700a7bd18/diff/etc/nginx/nginx.conf' 0755 0 0 ''

# --- summary ----------------------------------------------------------------------------

finding_waits
say ""
if [ -n "$UNCHECKED" ]; then
	say "Not checked against the disk: the scan read a snapshot. Run again with$UNCHECKED"
	say "(where the roots are on this machine) to check every target before --apply."
fi
if [ -n "$WAITING" ]; then
	say "Waiting for your choice: nothing was done for these findings (the report says which"
	say "repair fits which story):$WAITING"
fi
if [ -n "$LEFT" ]; then
	say "Left to do by hand: no script step can repair these (the report says what to do):$LEFT"
fi
if [ -n "$AFTER" ]; then
	say "Still to do by hand before the container can start: the script only clears the"
	say "place; put the original content there yourself (see the lines of each repair):$AFTER"
fi
if [ "$MANUAL" = 1 ]; then
	say "Repairs to do by hand remain (see BY HAND above); this script did not do them."
fi
if [ -n "$WAITING$LEFT$AFTER" ] && [ "$FAILED" = 0 ] && [ "$MANUAL" = 0 ]; then
	say "Finished: nothing was skipped, but the findings above still need you."
	if [ -n "$QDIR" ]; then
		say "Undo log and undo.sh: $QDIR"
	fi
	exit 1
fi
if [ "$FAILED" = 0 ] && [ "$MANUAL" = 0 ]; then
	say "Finished: nothing was skipped."
	if [ -n "$QDIR" ]; then
		say "Undo log and undo.sh: $QDIR"
	fi
	exit 0
fi
if [ "$FAILED" = 1 ]; then
	say "Finished, but something was skipped or refused (see SKIPPED above)."
fi
if [ -n "$QDIR" ]; then
	say "Undo log and undo.sh: $QDIR"
fi
exit 1
