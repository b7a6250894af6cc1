// Named pipes: connects the VFS's FIFO nodes (mkfifo, mknod S_IFIFO) to ipc::Pipe.
//
// Contract: after install_fifo_opener(vfs, platform), opening a FIFO in `vfs` attaches one Pipe to
// the inode (it lives while any end is open) and opens an end with Linux's rendezvous
// (Pipe::open_fifo): a blocking open waits for a partner through the caller's WaitContext (or,
// without one, uninterruptibly on the platform clock), O_NONBLOCK readers open at once and
// O_NONBLOCK writers without a reader fail with ENXIO.
#pragma once

#include <cstdint>
#include <memory>

#include "../event/waiter.hpp"
#include "../fs/vfs.hpp"
#include "pipe.hpp"

namespace litebox::ipc {

template <platform::RawMutexProvider P>
    requires platform::TimeProvider<P>
void install_fifo_opener(fs::Vfs<P>& vfs, const P& platform, PipeLimits limits = {}) {
    vfs.set_fifo_opener([&platform, limits](fs::Attachment<P>& slot, std::uint32_t flags,
                                            const event::WaitContext<P>* wait) -> Result<typename fs::Vfs<P>::FilePtr> {
        auto pipe = std::static_pointer_cast<Pipe<P>>(slot.get_or_create([&] { return Pipe<P>::create(limits); }));
        if (!pipe) return Errno::nomem;
        const event::WaitContext<P> uninterruptible(platform);
        return pipe->open_fifo(wait != nullptr ? *wait : uninterruptible, flags);
    });
}

}  // namespace litebox::ipc
