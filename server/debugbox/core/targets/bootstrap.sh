# debugbox session bootstrap: makes a toolbox shell feel like being inside the target.
# Run by the toolbox's own `sh -c` (POSIX sh; busybox ash, dash and bash all do). debugbox passes it as one argv
# word, never through a host shell. Arguments after $0: a command to run instead of an interactive shell.
# Environment from debugbox (all optional):
#   DEBUGBOX_TARGET      the target's name, for the prompt and the banner
#   DEBUGBOX_TARGET_PID  the target's main process; when empty it is found (lowest PID in another mount namespace)
#   DEBUGBOX_TARGET_CGROUP the target's container ID: it shares another container's PID namespace, so only a
#                        process whose cgroup paths (/proc/PID/cgroup) name that ID is the target's
#   DEBUGBOX_HOW         how the session was made (e.g. "docker sidecar, toolbox busybox")
#   DEBUGBOX_IDENTITY    what debugbox chose for the session's identity (one line for the banner)
#   DEBUGBOX_LOGS        the target's last log lines (exited containers), shown in the banner
#   DEBUGBOX_QUIET       non-empty: no banner (the environment and /target are still set up)
#   DEBUGBOX_SNAPSHOT    non-empty: this runs inside a copy of a stopped container (its files at /, its own
#                        environment and working directory); the toolbox's busybox is at /.debugbox
#   DEBUGBOX_SANDBOX_PID1 non-empty: PID 1 is the pod's sandbox, not the target (a pod copy sharing its processes)
#   DEBUGBOX_TARGET_CMDLINE the target's exact command line (NUL-separated words joined by spaces): the process
#                        running it is the target (a pod copy whose failing container debugbox keeps up)
#   DEBUGBOX_EXPECT_TARGET non-empty: the target's processes must be visible (an ephemeral container asked for
#                        --target); when none is, say so in one line and exit 97 before anything else, so
#                        debugbox can offer a copy of the pod with shared processes (edge/kube_watch.py)
#   DEBUGBOX_ATTACH      non-empty: the terminal attaches after the container started (kubectl debug/attach), so
#                        anything printed before is lost: an interactive session waits for the first line (the
#                        Enter kubectl asks for), then shows the banner and runs that line if it is a command
# Sets TARGET_PID, TARGET_ROOT (/target), TARGET_PATH, TARGET_HOME and the target's own variables.

dbx_say() { printf '%s\n' "$*" >&2; }
# What the target chose (its command line, its working directory's name) reaches the user's terminal only with
# its control characters shown as `?`: an escape sequence there could set the clipboard (OSC 52) or the title.
# So are, in UTF-8, the C1 controls (U+0080-U+009F: U+009B is a CSI to a terminal that decodes UTF-8 first) and
# the bidi controls (U+061C, U+200E-F, U+202A-E, U+2066-9: a name shown in another order than it is). Only text
# holding a byte that starts one of them (C2, D8, E2) is handed to sed, byte-wise (LC_ALL=C); without sed it is
# not shown at all.
dbx_lead=$(printf '\302\330\342')
dbx_wide=$(printf 's/\302[\200-\237]/?/g;s/\330\234/?/g;s/\342\200[\216\217\252-\256]/?/g;s/\342\201[\246-\251]/?/g')
dbx_shown() {
  dbx_s=$1
  case "$dbx_s" in
    *[[:cntrl:]]*) dbx_s=$(printf '%s.' "$dbx_s" | tr '\001-\037\177' '?' 2>/dev/null) || dbx_s='(control characters).' ;;
    *) dbx_s=$dbx_s. ;;
  esac
  case "$dbx_s" in
    *["$dbx_lead"]*)
      dbx_s=$(printf '%s' "$dbx_s" | LC_ALL=C sed "$dbx_wide" 2>/dev/null) || dbx_s='(control characters).' ;;
  esac
  printf '%s' "${dbx_s%.}"
}

# -- the target's main process ---------------------------------------------------------------------------
dbx_snapshot=${DEBUGBOX_SNAPSHOT:-}
dbx_pid=${DEBUGBOX_TARGET_PID:-}
dbx_other=
dbx_in_cgroup() { # dbx_in_cgroup FILE: whether one of the cgroup paths in FILE names the target's container ID
  while IFS= read -r dbx_line; do
    case "$dbx_line" in *"$DEBUGBOX_TARGET_CGROUP"*) return 0 ;; esac
  done <"$1" 2>/dev/null
  return 1
}
if [ -z "$dbx_pid" ] && [ -z "$dbx_snapshot" ]; then
  # The sidecar's own processes share its mount namespace; the target's do not (or cannot be read, when it
  # runs as another user). The lowest such PID is the target's main process; `pause` is the pod's sandbox.
  dbx_self_mnt=$(readlink /proc/self/ns/mnt 2>/dev/null)
  for dbx_dir in /proc/[0-9]*; do
    dbx_p=${dbx_dir#/proc/}
    [ "$dbx_p" = "$$" ] && continue
    [ "$dbx_p" = 1 ] && [ -n "${DEBUGBOX_SANDBOX_PID1:-}" ] && continue
    dbx_mnt=$(readlink "$dbx_dir/ns/mnt" 2>/dev/null)
    [ -n "$dbx_self_mnt" ] && [ "$dbx_mnt" = "$dbx_self_mnt" ] && continue
    dbx_comm=$(cat "$dbx_dir/comm" 2>/dev/null)
    [ "$dbx_comm" = pause ] && continue
    if [ -n "${DEBUGBOX_TARGET_CGROUP:-}" ]; then
      # The lowest PID of another container is kept in case no cgroup path names the target (then a note).
      if [ -z "$dbx_other" ] || [ "$dbx_p" -lt "$dbx_other" ]; then dbx_other=$dbx_p; fi
      dbx_in_cgroup "$dbx_dir/cgroup" || continue
    fi
    if [ -n "${DEBUGBOX_TARGET_CMDLINE:-}" ] \
      && [ "$(tr '\0' ' ' <"$dbx_dir/cmdline" 2>/dev/null)" = "$DEBUGBOX_TARGET_CMDLINE " ]; then
      dbx_pid=$dbx_p
      break
    fi
    if [ -z "$dbx_pid" ] || [ "$dbx_p" -lt "$dbx_pid" ]; then dbx_pid=$dbx_p; fi
  done
fi
dbx_problems=
if [ -z "$dbx_pid" ] && [ -n "$dbx_other" ]; then
  dbx_pid=$dbx_other
  dbx_problems="the target shares its process namespace with another container and no process's cgroup names it: PID $dbx_pid may be the other container's"
fi
if [ -n "$dbx_snapshot" ]; then
  dbx_pid=
elif [ -z "$dbx_pid" ] || [ ! -d "/proc/$dbx_pid" ]; then
  dbx_problems="no process of the target is visible (is the process namespace shared?)"
  dbx_pid=
fi
export TARGET_PID="$dbx_pid"
if [ -z "$dbx_pid" ] && [ -z "$dbx_snapshot" ] && [ -n "${DEBUGBOX_EXPECT_TARGET:-}" ]; then
  # Some runtimes ignore --target (the debug container then has a PID namespace of its own), and a target that
  # is not running has no process: a session without the target is not what was asked for.
  dbx_say "debugbox: no process of ${DEBUGBOX_TARGET:-the target} is visible from this debug container (the container runtime did not share its processes through --target, or it is not running); a copy of the pod with shared processes can see them."
  exit 97
fi

# -- who the target runs as, and who we are ------------------------------------------------------------------
dbx_field() { # dbx_field FILE KEY: the first value after `KEY:` in a /proc status file
  while IFS= read -r dbx_line; do
    case "$dbx_line" in "$2:"*) set -- $dbx_line; echo "$2"; return 0 ;; esac
  done <"$1" 2>/dev/null
}
dbx_uid=; dbx_gid=; dbx_cmd=
if [ -n "$dbx_pid" ]; then
  dbx_uid=$(dbx_field "/proc/$dbx_pid/status" Uid)
  dbx_gid=$(dbx_field "/proc/$dbx_pid/status" Gid)
  dbx_cmd=$(dbx_shown "$(tr '\0' ' ' <"/proc/$dbx_pid/cmdline" 2>/dev/null)")
fi
dbx_my_uid=$(dbx_field /proc/self/status Uid)
dbx_my_gid=$(dbx_field /proc/self/status Gid)

# -- the target's files at /target ---------------------------------------------------------------------------
dbx_root=
if [ -n "$dbx_pid" ]; then
  dbx_src=/proc/$dbx_pid/root
  if ! ls "$dbx_src/" >/dev/null 2>&1; then
    if [ "$(readlink /proc/self/ns/user 2>/dev/null)" != "$(readlink "/proc/$dbx_pid/ns/user" 2>/dev/null)" ] \
      && [ -n "$(readlink "/proc/$dbx_pid/ns/user" 2>/dev/null)" ]; then
      dbx_problems="the target runs in its own user namespace (userns-remap or rootless): its files are not readable from here${dbx_problems:+; $dbx_problems}"
    elif [ "$dbx_my_uid" != 0 ] && [ "$dbx_my_uid:$dbx_my_gid" != "${dbx_uid:-?}:${dbx_gid:-?}" ]; then
      # The kernel's ptrace access check (which guards /proc/<pid>/root and environ) compares uid AND gid.
      dbx_problems="cannot read the target's files or environment: the target runs as ${dbx_uid:-?}:${dbx_gid:-?}, this session as $dbx_my_uid:$dbx_my_gid — without SYS_PTRACE both uid and gid must match (give the session the target's group, e.g. runAsGroup: ${dbx_gid:-?}, or reopen with --ptrace)${dbx_problems:+; $dbx_problems}"
    else
      dbx_problems="cannot read the target's files: it runs as uid ${dbx_uid:-?} and this session as uid $dbx_my_uid without SYS_PTRACE; reopen with --ptrace${dbx_problems:+; $dbx_problems}"
    fi
  elif [ -d /target ] && [ ! -L /target ]; then
    # A non-root session cannot create /target in the toolbox's root, so debugbox mounted a tmpfs there:
    # one link per top-level entry of the target's root (volumes included, they are under those).
    for dbx_e in "$dbx_src"/* "$dbx_src"/.[!.]*; do
      [ -e "$dbx_e" ] || [ -L "$dbx_e" ] || continue
      ln -sfn "$dbx_e" "/target/${dbx_e##*/}" 2>/dev/null
    done
    dbx_root=/target
  elif ln -sfn "$dbx_src" /target 2>/dev/null; then
    dbx_root=/target
  elif [ "$dbx_my_uid" != 0 ] && [ -d /tmp ] && ln -sfn "$dbx_src" /tmp/target 2>/dev/null; then
    # A non-root session where debugbox could not mount a tmpfs at /target (a Kubernetes debug container).
    dbx_root=/tmp/target
  else
    dbx_root=$dbx_src
    if [ "$dbx_my_uid" = 0 ]; then dbx_why="the toolbox's root filesystem is read-only"; else dbx_why="this session (uid $dbx_my_uid) cannot write to the toolbox's / or /tmp"; fi
    dbx_problems="$dbx_why, so there is no /target: the target's files are at $dbx_src${dbx_problems:+; $dbx_problems}"
  fi
fi
if [ -n "$dbx_snapshot" ]; then
  dbx_root=/
  export TARGET_PATH="$PATH" PATH="/.debugbox:$PATH"
  # The container's own variables are this shell's, but those that make the shell itself run something as it
  # starts or prompts (a file the container could write) are kept under TARGET_ only, as in a sidecar; the
  # rest (LD_*, its runtimes') serve the container's own programs in the copy.
  for dbx_v in ENV BASH_ENV PROMPT_COMMAND PS0 PS2 PS3 PS4 SHELLOPTS BASHOPTS; do
    eval "dbx_value=\${$dbx_v-}; dbx_isset=\${$dbx_v+x}"
    if [ -n "$dbx_isset" ]; then export "TARGET_$dbx_v=$dbx_value"; unset "$dbx_v"; fi
  done
fi
export TARGET_ROOT="$dbx_root"

# -- its environment: the target's variables, the toolbox's PATH first ------------------------------------------
dbx_env=no
dbx_unset=0
dbx_unset_names=
if [ -n "$dbx_pid" ] && [ -r "/proc/$dbx_pid/environ" ] && command -v tr >/dev/null 2>&1; then
  # NUL ends each variable and a value may hold newlines (a PEM key): read line by line, each newline is \001
  # meanwhile and a newline again in the value (so a value's second line never reads as a variable of its own;
  # a \001 of the target's own comes back as a newline too: the one byte the shell cannot keep apart).
  dbx_soh=$(printf '\001')
  dbx_vars=$(tr '\0\n' '\n\001' <"/proc/$dbx_pid/environ" 2>/dev/null) && dbx_env=yes
  while IFS= read -r dbx_line; do
    dbx_name=${dbx_line%%=*}
    [ "$dbx_name" = "$dbx_line" ] && continue
    dbx_value=${dbx_line#*=}
    case "$dbx_value" in *"$dbx_soh"*)
      dbx_value=$(printf '%s.' "$dbx_value" | tr '\001' '\n')
      dbx_value=${dbx_value%.} ;;
    esac
    case "$dbx_name" in
      '') continue ;;
      [0-9]* | *[!A-Za-z0-9_]*)
        # `server.port`, `my-var`: valid in an environment, not as a shell variable; the banner names them.
        dbx_unset=$((dbx_unset + 1))
        [ "$dbx_unset" -le 3 ] && dbx_unset_names="${dbx_unset_names:+$dbx_unset_names, }$dbx_name"
        continue ;;
      PATH) export TARGET_PATH="$dbx_value" ;;
      HOME) export TARGET_HOME="$dbx_value" ;;
      # The target must not run code in this session (it may be the compromised party, and the session may have
      # more rights than it): variables that make shells or language runtimes execute or load something are
      # kept under TARGET_ only. LD_*: the target's libraries are not the toolbox's either. vi runs EXINIT's
      # `:!cmd` when it starts, OPENSSL_CONF loads modules into curl, a JVM takes agents from *JAVA*_OPTIONS.
      LD_* | PROMPT_COMMAND | BASH_ENV | PS[0-4] | SHELLOPTS | BASHOPTS | CDPATH | GLOBIGNORE | HIST* | MAIL* | \
        PYTHON* | PERL5* | PERLLIB | RUBY* | NODE_OPTIONS | NODE_PATH | GCONV_PATH | LOCPATH | GIT_* | LESS* | \
        EDITOR | VISUAL | PAGER | MANPAGER | TMPDIR | INPUTRC | TERMINFO* | FCEDIT | EXINIT | *VIMINIT | MYVIMRC | \
        VIM | VIMRUNTIME | OPENSSL_* | LUA_INIT* | JAVA_TOOL_OPTIONS | _JAVA_OPTIONS | JDK_JAVA_OPTIONS | \
        XDG_CONFIG_HOME | CURL_HOME | WGETRC) export "TARGET_$dbx_name=$dbx_value" ;;
      # Read-only in bash, a toolbox's `sh` on Red Hat-like images: exporting one ends the bootstrap (posix
      # mode); a Dockerfile's `ENV UID=1000` is common.
      UID | EUID | PPID | BASH_VERSINFO) export "TARGET_$dbx_name=$dbx_value" ;;
      PWD | OLDPWD | SHLVL | TERM | _ | ENV | IFS | DEBUGBOX_* | TARGET_* | dbx_*) ;;
      *) export "$dbx_name=$dbx_value" ;;
    esac
  done <<DBX_EOF
$dbx_vars
DBX_EOF
fi

# -- its working directory ----------------------------------------------------------------------------------
dbx_cwd=$PWD
if [ -n "$dbx_pid" ] && [ -n "$dbx_root" ]; then
  dbx_cwd=$(readlink "/proc/$dbx_pid/cwd" 2>/dev/null)
  if [ "$(dbx_shown "$dbx_cwd")" != "$dbx_cwd" ]; then
    # The prompt shows $PWD every time: a name with control characters is named (shown), not entered.
    dbx_problems="the target's working directory $(dbx_shown "$dbx_cwd") has control characters in its name, so the session starts at $dbx_root${dbx_problems:+; $dbx_problems}"
    dbx_cwd=
  fi
  if [ -n "$dbx_cwd" ] && cd "$dbx_root$dbx_cwd" 2>/dev/null; then
    dbx_cwd=$dbx_root${dbx_cwd%/}
  else
    case "$dbx_cwd" in *' (deleted)') dbx_problems="the target's working directory $dbx_cwd no longer exists${dbx_problems:+; $dbx_problems}" ;; esac
    cd "$dbx_root" 2>/dev/null
    dbx_cwd=$dbx_root
  fi
fi

# -- the banner ----------------------------------------------------------------------------------------------
# Only name characters: the prompt is expanded by the shell each time it is shown.
dbx_name=$(printf '%s' "${DEBUGBOX_TARGET:-target}" | tr -cd 'A-Za-z0-9_./:-')
dbx_first=
if [ -n "${DEBUGBOX_ATTACH:-}" ] && [ "$#" -eq 0 ]; then
  IFS= read -r dbx_first || :
fi
if [ -z "${DEBUGBOX_QUIET:-}" ]; then
  dbx_tools=
  for dbx_t in strace tcpdump curl wget ps top ss netstat ip nc dig nslookup lsof gdb ltrace vi; do
    command -v "$dbx_t" >/dev/null 2>&1 && dbx_tools="$dbx_tools $dbx_t"
  done
  dbx_say "debugbox: inside $dbx_name${DEBUGBOX_HOW:+ ($DEBUGBOX_HOW)}"
  if [ -n "$dbx_pid" ]; then
    dbx_say "  target    PID $dbx_pid: ${dbx_cmd:-?}"
    dbx_say "  user      target uid ${dbx_uid:-?} gid ${dbx_gid:-?}; this session uid $dbx_my_uid gid $dbx_my_gid"
  fi
  [ -n "${DEBUGBOX_IDENTITY:-}" ] && dbx_say "  identity  $DEBUGBOX_IDENTITY"
  if [ -n "$dbx_snapshot" ]; then
    dbx_say "  files     / is the container's filesystem as it stopped (a copy; its volumes and bind mounts are the original's, read-only); you are in $(dbx_shown "$dbx_cwd"), its working directory"
    dbx_say "  env       the container's own variables; its PATH is \$TARGET_PATH, the toolbox's /.debugbox comes first"
  elif [ -n "$dbx_root" ]; then
    dbx_say "  files     $dbx_root (the target's /, volumes included; = /proc/$dbx_pid/root); you are in $(dbx_shown "$dbx_cwd")"
  fi
  if [ -n "$dbx_snapshot" ]; then
    :
  elif [ "$dbx_env" = yes ]; then
    dbx_say "  env       the target's variables are set; its PATH is \$TARGET_PATH, the toolbox's PATH comes first"
    if [ "$dbx_unset" -gt 0 ]; then
      [ "$dbx_unset" -gt 3 ] && dbx_unset_names="$dbx_unset_names and $((dbx_unset - 3)) more"
      dbx_say "            except $(dbx_shown "$dbx_unset_names"): names a shell variable cannot have (they are in /proc/$dbx_pid/environ)"
    fi
  elif [ -n "$dbx_pid" ]; then
    dbx_say "  env       the target's environment is not readable from here"
  fi
  [ -n "$dbx_snapshot" ] || dbx_say "  network   localhost is the target's"
  dbx_say "  tools    ${dbx_tools:- (none of the usual ones)}"
  [ -n "$dbx_problems" ] && dbx_say "  note      $dbx_problems"
  if [ -n "${DEBUGBOX_LOGS:-}" ]; then
    dbx_say "  last log lines:"
    while IFS= read -r dbx_line; do dbx_say "    | $dbx_line"; done <<DBX_EOF
$DEBUGBOX_LOGS
DBX_EOF
  fi
fi

# -- hand over -----------------------------------------------------------------------------------------------
PS1="[debug $dbx_name] \$PWD # "
[ "$dbx_my_uid" = 0 ] || PS1="[debug $dbx_name] \$PWD \$ "
export PS1
unset dbx_snapshot dbx_other dbx_v dbx_isset dbx_self_mnt dbx_dir dbx_p dbx_mnt dbx_comm dbx_line dbx_src dbx_e dbx_vars dbx_soh dbx_name dbx_value dbx_t \
  dbx_tools dbx_uid dbx_gid dbx_my_uid dbx_my_gid dbx_cmd dbx_problems dbx_env dbx_unset dbx_unset_names dbx_cwd dbx_root dbx_pid
unset dbx_s dbx_lead dbx_wide
unset -f dbx_say dbx_field dbx_shown dbx_in_cgroup
if [ -n "$dbx_first" ]; then
  # The line typed before the banner (kubectl's "press enter" moment) is the user's first command.
  eval "$dbx_first"
fi
unset dbx_first dbx_why
if [ "$#" -gt 0 ]; then exec "$@"; fi
if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc -i; fi
exec sh -i
