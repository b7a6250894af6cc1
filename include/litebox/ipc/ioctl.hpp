// ioctl(2) queries that several IPC objects answer, for the shim's ioctl handler.
#pragma once

#include <cstddef>

#include "../error.hpp"
#include "../fd/open_file.hpp"
#include "pipe.hpp"
#include "unix/socket.hpp"

namespace litebox::ipc {

/// FIONREAD (= SIOCINQ): bytes queued in a pipe or FIFO, or a unix socket's SIOCINQ (EINVAL for a
/// listener). ENOTTY for any other object (regular files are the file system's business).
template <typename P>
Result<std::size_t> bytes_readable(fd::OpenFile<P>& file) {
    if (Pipe<P>* pipe = pipe_of(file)) return pipe->bytes_queued();
    if (UnixSocket<P>* socket = unix_socket_of(file)) return socket->bytes_readable();
    return Errno::notty;
}

}  // namespace litebox::ipc
