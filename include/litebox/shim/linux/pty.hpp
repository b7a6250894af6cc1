// Pseudo-terminals in the Linux shim: the terminal ioctls on a pty master or slave (ipc/pty.hpp),
// the controlling terminal of a session, and what open(2) does with ttys.
//
// Contract (Linux's tty_ioctl / tty_open, for pty pairs):
// - TCGETS, TCSETS/TCSETSW/TCSETSF (F flushes input), TIOCGWINSZ, TIOCSWINSZ (SIGWINCH to the
//   foreground group on a change), TIOCGPTN, TIOCSPTLCK/TIOCGPTLCK, TIOCGPTPEER, TIOCSCTTY,
//   TIOCNOTTY, TIOCGPGRP/TIOCSPGRP, TIOCGSID, FIONREAD (TIOCINQ), TIOCOUTQ, TCFLSH, TCXONC,
//   TCSBRK/TCSBRKP (nothing to drain: 0), TIOCEXCL/TIOCNXCL (accepted, not enforced). TIOCPKT can
//   only be turned off (EINVAL, traced, otherwise). On a hung-up slave (master closed) they fail
//   with EIO (TIOCSPGRP ENOTTY), as Linux's hung-up file operations.
// - A session leader without a controlling terminal that opens a slave without O_NOCTTY acquires
//   it (the box's console is not counted as one), as does TIOCSCTTY. /dev/tty then opens that
//   terminal (the description stays /dev/tty, 5:0, as on Linux); a process whose session has no
//   pty opens the box's console there, as before (ENXIO without one).
// - Closing the master sends SIGHUP and SIGCONT to the controlling session's leader; TIOCNOTTY by a
//   session leader sends them to the foreground group. When a session leader exits, its session
//   loses the terminal and the foreground group gets SIGHUP (Linux's disassociate_ctty; no
//   SIGCONT for a pty): the kernel's ProcessTable::set_session_leader_exit hook.
// - Job control (tty_job_control): a process of a background group of the terminal's session that
//   reads the terminal gets SIGTTIN, that writes it with TOSTOP set or changes its settings
//   (TCSETS*, TIOCSPGRP, TCFLSH, TCXONC, TCSBRK*) SIGTTOU, with its group; blocked or ignored,
//   SIGTTIN is EIO and SIGTTOU lets the call go on; an orphaned group gets EIO.
// Not done: per-process TIOCNOTTY for members that are not leaders (accepted, no effect). (The
// box's console has the same job control: terminal.hpp's console_job_control.)
#pragma once

#include <cstdint>
#include <string>

#include "../../fs/devfs.hpp"
#include "../../fs/devpts.hpp"
#include "../../ipc/pty.hpp"
#include "fs_common.hpp"
#include "guest_memory.hpp"
#include "kernel.hpp"
#include "terminal_settings.hpp"

namespace litebox::shim::linux_abi {

namespace pty_detail {
inline constexpr std::uint32_t tcsbrk = 0x5409, tcxonc = 0x540A, tcflsh = 0x540B, tiocexcl = 0x540C, tiocnxcl = 0x540D,
                               tiocsctty = 0x540E, tiocoutq = 0x5411, tiocpkt = 0x5420, tiocnotty = 0x5422,
                               tcsbrkp = 0x5425, tiocgsid = 0x5429, tiocgptn = 0x80045430, tiocsptlck = 0x40045431,
                               tiocgptlck = 0x80045439, tiocgptpeer = 0x5441;
inline constexpr std::uint64_t ioctl_number = 16;  // for the trace of unsupported requests

inline ipc::Termios from_kernel(const terminal_detail::kernel_termios& k) noexcept {
    ipc::Termios t;
    t.iflag = k.c_iflag, t.oflag = k.c_oflag, t.cflag = k.c_cflag, t.lflag = k.c_lflag, t.line = k.c_line;
    for (std::size_t i = 0; i < sizeof t.cc; ++i) t.cc[i] = k.c_cc[i];
    return t;
}
inline terminal_detail::kernel_termios to_kernel(const ipc::Termios& t) noexcept {
    terminal_detail::kernel_termios k{};
    k.c_iflag = t.iflag, k.c_oflag = t.oflag, k.c_cflag = t.cflag, k.c_lflag = t.lflag, k.c_line = t.line;
    for (std::size_t i = 0; i < sizeof t.cc; ++i) k.c_cc[i] = t.cc[i];
    return k;
}

/// Opens /dev/pts/<index> again (TIOCGPTPEER, /dev/tty), past the path's permissions as Linux does.
template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> open_slave(ThreadContext<P>& t, unsigned index, std::uint32_t flags) {
    const auto root = fs::Credentials::root();
    auto& vfs = t.kernel().vfs();
    LITEBOX_TRY_ASSIGN(auto directory, vfs.resolve_directory(root, vfs.root(), "/dev/pts"));
    const std::string name = std::to_string(index);
    LITEBOX_TRY_ASSIGN(auto where, vfs.resolve(root, directory, name));
    LITEBOX_TRY_ASSIGN(auto file, vfs.open_location(root, where, flags));
    // Named as if opened by path, so that /proc/self/fd/N (ttyname) reads /dev/pts/N.
    if (auto* handle = dynamic_cast<fs::FileHandle<P>*>(file.get()); handle != nullptr && !handle->origin())
        handle->set_origin(std::move(directory), name);
    return file;
}

struct CallerSession {
    int session = 0;
    int group = 0;
    bool leader = false;
};
template <typename P>
CallerSession caller_session(ThreadContext<P>& t) {
    CallerSession c;
    c.session = t.kernel().tasks().session_of(t.pid()).value_or(0);
    c.group = t.kernel().tasks().process_group_of(t.pid()).value_or(0);
    c.leader = c.session == t.pid();
    return c;
}
}  // namespace pty_detail

/// Linux's __tty_check_change: a process of a background group that uses its session's controlling
/// terminal `pair` (reads it; writes it under TOSTOP; changes its settings) is sent `signal`
/// (SIGTTIN or SIGTTOU) with its whole group, and the call ends with EINTR -- which a runtime
/// turns into a restart once the signal is taken, as Linux's -ERESTARTSYS. Unless the caller
/// blocks or ignores the signal (then SIGTTIN is EIO and SIGTTOU lets the call go on) or its group
/// is orphaned (EIO: nobody could continue it). Any other terminal, or the foreground group: ok.
template <typename P>
Result<void> tty_job_control(ThreadContext<P>& t, ipc::PtyPair<P>& pair, int signal);

/// tty_job_control for any terminal: one that is the controlling terminal of `session` (0: none)
/// with `foreground` (0: none) its foreground group. (The box's console uses it too: terminal.hpp.)
template <typename P>
Result<void> terminal_job_control(ThreadContext<P>& t, int session, int foreground, int signal) {
    const auto me = pty_detail::caller_session(t);
    if (me.session == 0 || session != me.session) return ok();
    if (foreground == 0 || foreground == me.group) return ok();
    if (t.kernel().blocks_or_ignores(t.thread(), signal)) return signal == abi::sigttin ? Result<void>(Errno::io) : ok();
    auto& tasks = t.kernel().tasks();
    if (tasks.in_orphaned_group(t.pid())) return Errno::io;
    // A runtime redoes an attempt that must not sleep where it may (EINTR): the signal is sent
    // once, by the attempt that ends the call.
    if (t.thread().waiter().sleep_forbidden()) return Errno::intr;
    // The caller's own process gets it on the calling thread, where the call returns (a runtime
    // raises the signals posted to a thread when the call ends); the other members through the
    // terminal's signal sink, as its other signals.
    for (const int pid : tasks.group_members(me.group))
        if (pid != t.pid()) t.kernel().ptys().signal(pid, signal);
    tasks.post_to_thread(t.thread(), signal);
    t.thread().set_restart_after_signal();
    return Errno::intr;
}

template <typename P>
Result<void> tty_job_control(ThreadContext<P>& t, ipc::PtyPair<P>& pair, int signal) {
    return terminal_job_control(t, pair.session(), pair.foreground_group(), signal);
}

/// True for the requests pty_ioctl handles on a pty master or slave.
constexpr bool is_pty_request(std::uint32_t request) noexcept {
    namespace pd = pty_detail;
    switch (request) {
    case abi::tcgets: case abi::tcsets: case abi::tcsetsw: case abi::tcsetsf: case abi::tiocgwinsz: case abi::tiocswinsz:
    case abi::tiocgpgrp: case abi::tiocspgrp: case abi::fionread: case pd::tcsbrk: case pd::tcxonc: case pd::tcflsh:
    case pd::tiocexcl: case pd::tiocnxcl: case pd::tiocsctty: case pd::tiocoutq: case pd::tiocpkt: case pd::tiocnotty:
    case pd::tcsbrkp: case pd::tiocgsid: case pd::tiocgptn: case pd::tiocsptlck: case pd::tiocgptlck: case pd::tiocgptpeer:
        return true;
    default: return false;
    }
}

/// Handles one is_pty_request on `file`, a master or slave of `pair`.
template <typename P>
SyscallResult pty_ioctl(ThreadContext<P>& t, fd::OpenFile<P>& file, ipc::PtyPair<P>& pair, std::uint32_t request,
                        std::uintptr_t argument) {
    namespace pd = pty_detail;
    const bool master = ipc::pty_master_of(file) != nullptr;
    if (!master && pair.hung_up()) return request == abi::tiocspgrp ? Errno::notty : Errno::io;
    switch (request) {  // the requests that change the terminal: a background group's SIGTTOU
    case abi::tcsets: case abi::tcsetsw: case abi::tcsetsf:
        LITEBOX_TRY(tty_job_control(t, pair, abi::sigttou));
        break;
    case pd::tcflsh: case pd::tcxonc: case pd::tcsbrk: case pd::tcsbrkp:  // on the master these act on the master itself
        if (!master) LITEBOX_TRY(tty_job_control(t, pair, abi::sigttou));
        break;
    case abi::tiocspgrp:
        if (auto checked = tty_job_control(t, pair, abi::sigttou); !checked)
            return checked.error() == Errno::io ? Errno::notty : checked.error();
        break;
    default: break;
    }
    switch (request) {
    case abi::tcgets:
        LITEBOX_TRY(Guest<P>::write(argument, pd::to_kernel(pair.termios())));
        return 0;
    case abi::tcsets: case abi::tcsetsw: case abi::tcsetsf: {
        LITEBOX_TRY_ASSIGN(const auto termios, Guest<P>::template read<terminal_detail::kernel_termios>(argument));
        pair.set_termios(pd::from_kernel(termios), request == abi::tcsetsf);
        return 0;
    }
    case abi::tiocgwinsz: {
        const auto w = pair.window();
        LITEBOX_TRY(Guest<P>::write(argument, terminal_detail::kernel_winsize{w.rows, w.columns, w.xpixel, w.ypixel}));
        return 0;
    }
    case abi::tiocswinsz: {
        LITEBOX_TRY_ASSIGN(const auto w, Guest<P>::template read<terminal_detail::kernel_winsize>(argument));
        pair.set_window(ipc::PtyWindowSize{w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel});
        return 0;
    }
    case pd::tiocgptn:
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::uint32_t>(pair.index())));
        return 0;
    case pd::tiocsptlck: {
        if (!master) return Errno::notty;
        LITEBOX_TRY_ASSIGN(const std::int32_t lock, Guest<P>::template read<std::int32_t>(argument));
        pair.set_locked(lock != 0);
        return 0;
    }
    case pd::tiocgptlck:
        if (!master) return Errno::notty;
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(pair.locked() ? 1 : 0)));
        return 0;
    case pd::tiocgptpeer: {
        if (!master) return Errno::notty;
        namespace of = fd::open_flags;
        const auto flags = static_cast<std::uint32_t>(argument);
        if ((flags & ~(of::access_mode | of::no_ctty | of::nonblock | of::close_on_exec)) != 0) return Errno::inval;
        if (pair.locked()) return Errno::io;
        LITEBOX_TRY_ASSIGN(auto slave, pd::open_slave(t, pair.index(), (flags & ~of::close_on_exec) | of::no_ctty | of::large_file));
        LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(slave), (flags & of::close_on_exec) != 0));
        return descriptor;
    }
    case pd::tiocsctty: {
        const auto me = pd::caller_session(t);
        if (!me.leader) return Errno::perm;
        if (pair.session() == me.session) return 0;
        if (t.kernel().ptys().controlling(me.session)) return Errno::perm;
        if (pair.session() != 0) {
            const bool root = t.process().state().with_lock([](auto& st) { return st.credentials.privileged(); });
            if (argument != 1 || !root) return Errno::perm;
        }
        pair.set_session(me.session, me.group);
        return 0;
    }
    case pd::tiocnotty: {
        const auto me = pd::caller_session(t);
        if (pair.session() != me.session || me.session == 0) return Errno::notty;
        if (!me.leader) return 0;
        int group = 0;
        if (pair.release_session(me.session, group) && group > 0) {
            t.kernel().ptys().signal(-group, ipc::pty_signals::sighup);
            t.kernel().ptys().signal(-group, ipc::pty_signals::sigcont);
        }
        return 0;
    }
    case abi::tiocgpgrp: {
        const auto me = pd::caller_session(t);
        if (!master && pair.session() != me.session) return Errno::notty;
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(pair.foreground_group())));
        return 0;
    }
    case abi::tiocspgrp: {
        const auto me = pd::caller_session(t);
        if (pair.session() == 0 || pair.session() != me.session) return Errno::notty;
        LITEBOX_TRY_ASSIGN(const std::int32_t group, Guest<P>::template read<std::int32_t>(argument));
        if (group < 0) return Errno::inval;
        bool exists = false, same_session = false;
        auto& tasks = t.kernel().tasks();
        for (const int pid : tasks.process_ids()) {
            if (tasks.process_group_of(pid).value_or(0) != group) continue;
            exists = true;
            if (tasks.session_of(pid).value_or(0) == me.session) same_session = true;
        }
        if (!exists) return Errno::srch;
        if (!same_session) return Errno::perm;
        pair.set_foreground_group(group);
        return 0;
    }
    case pd::tiocgsid: {
        const auto me = pd::caller_session(t);
        if (!master && pair.session() != me.session) return Errno::notty;
        if (pair.session() == 0) return Errno::notty;
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(pair.session())));
        return 0;
    }
    case abi::fionread: {
        const std::size_t n = master ? pair.master_readable() : pair.slave_readable();
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(n)));
        return 0;
    }
    case pd::tiocoutq: {
        const std::size_t n = master ? 0 : pair.master_readable();
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(n)));
        return 0;
    }
    case pd::tcflsh: {
        if (argument > 2) return Errno::inval;
        const bool input = argument == 0 || argument == 2, output = argument == 1 || argument == 2;
        // The master's input is what the slave wrote (the slave's output), and the other way round.
        if (master) pair.flush(output, input);
        else pair.flush(input, output);
        return 0;
    }
    case pd::tcxonc:
        if (argument > 3) return Errno::inval;
        return 0;
    case pd::tcsbrk: case pd::tcsbrkp: case pd::tiocexcl: case pd::tiocnxcl:
        return 0;  // output is never held back: nothing to drain or send
    default: {  // tiocpkt
        LITEBOX_TRY_ASSIGN(const std::int32_t on, Guest<P>::template read<std::int32_t>(argument));
        if (!master) return Errno::notty;
        if (on == 0) return 0;
        t.kernel().unsupported(pd::ioctl_number, "TIOCPKT (packet mode)");
        return Errno::inval;
    }
    }
}

/// open(2) of /dev/tty that found no console (ENXIO): the session's pty slave, if it has one.
template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> pty_open_tty(ThreadContext<P>& t, const fs::Location<P>& base, std::string_view path,
                                                       std::uint32_t flags) {
    auto& vfs = t.kernel().vfs();
    LITEBOX_TRY_ASSIGN(const auto where, vfs.resolve(fs_credentials(t), base, path));
    LITEBOX_TRY_ASSIGN(const auto st, where.inode->getattr());
    if (where.inode->type() != fd::mode::char_device || st.represented_device != fs::devices::tty) return Errno::nxio;
    auto pair = t.kernel().ptys().controlling(pty_detail::caller_session(t).session);
    if (!pair) return Errno::nxio;
    LITEBOX_TRY_ASSIGN(auto slave, ipc::PtySlave<P>::make(where, flags & ~fd::open_flags::close_on_exec, std::move(pair)));
    return std::shared_ptr<fd::OpenFile<P>>(std::move(slave));
}

/// open(2) of a tty: records the owner of a new pair, makes a slave the caller's controlling
/// terminal where Linux would, and turns /dev/tty into the session's pty slave when it has one.
template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> pty_after_open(ThreadContext<P>& t, std::shared_ptr<fd::OpenFile<P>> file, std::uint32_t flags) {
    namespace pd = pty_detail;
    if (auto* master = ipc::pty_master_of(*file)) {
        const auto creds = fs_credentials(t);
        master->pair().set_owner(creds.fsuid, creds.fsgid);
        return file;
    }
    if (auto* slave = ipc::pty_slave_of(*file)) {
        if ((flags & fd::open_flags::no_ctty) != 0) return file;
        const auto me = pd::caller_session(t);
        if (me.leader && slave->pair().session() == 0 && !t.kernel().ptys().controlling(me.session))
            slave->pair().set_session(me.session, me.group);
        return file;
    }
    const auto* handle = dynamic_cast<const fs::FileHandle<P>*>(file.get());
    if (handle == nullptr || !handle->location().valid() || handle->location().inode->type() != fd::mode::char_device) return file;
    auto st = handle->location().inode->getattr();
    if (!st || st->represented_device != fs::devices::tty) return file;
    const auto me = pd::caller_session(t);
    auto pair = t.kernel().ptys().controlling(me.session);
    if (!pair) return file;  // no pty: the box's console
    // Linux's /dev/tty: its own node (5:0, named /dev/tty) with the session's terminal behind it.
    LITEBOX_TRY_ASSIGN(auto slave, ipc::PtySlave<P>::make(handle->location(), flags & ~fd::open_flags::close_on_exec, std::move(pair)));
    if (const auto& origin = handle->origin()) slave->set_origin(origin->directory, origin->name);
    return std::shared_ptr<fd::OpenFile<P>>(std::move(slave));
}

}  // namespace litebox::shim::linux_abi
