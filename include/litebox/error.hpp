// Errors are values: Errno (Linux numbering), Result<T>, and the LITEBOX_TRY macros.
//
// Contract: every operation a guest can reach returns a Result. A failed Result holds exactly one
// Errno; a successful one holds a T. Nothing on these paths throws. Errno values equal the Linux
// x86-64 numbers so that a shim can return -static_cast<int>(e) without a table.
#pragma once

#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace litebox {

// X(name, number, "ENAME", "message") — the Linux errno table (asm-generic/errno-base.h and errno.h).
#define LITEBOX_ERRNO_LIST(X)                                                      \
    X(perm, 1, "EPERM", "Operation not permitted")                                 \
    X(noent, 2, "ENOENT", "No such file or directory")                             \
    X(srch, 3, "ESRCH", "No such process")                                         \
    X(intr, 4, "EINTR", "Interrupted system call")                                 \
    X(io, 5, "EIO", "Input/output error")                                          \
    X(nxio, 6, "ENXIO", "No such device or address")                               \
    X(toobig, 7, "ETOOBIG", "Argument list too long")                              \
    X(noexec, 8, "ENOEXEC", "Exec format error")                                   \
    X(badf, 9, "EBADF", "Bad file descriptor")                                     \
    X(child, 10, "ECHILD", "No child processes")                                   \
    X(again, 11, "EAGAIN", "Resource temporarily unavailable")                     \
    X(nomem, 12, "ENOMEM", "Cannot allocate memory")                               \
    X(acces, 13, "EACCES", "Permission denied")                                    \
    X(fault, 14, "EFAULT", "Bad address")                                          \
    X(notblk, 15, "ENOTBLK", "Block device required")                              \
    X(busy, 16, "EBUSY", "Device or resource busy")                                \
    X(exist, 17, "EEXIST", "File exists")                                          \
    X(xdev, 18, "EXDEV", "Invalid cross-device link")                              \
    X(nodev, 19, "ENODEV", "No such device")                                       \
    X(notdir, 20, "ENOTDIR", "Not a directory")                                    \
    X(isdir, 21, "EISDIR", "Is a directory")                                       \
    X(inval, 22, "EINVAL", "Invalid argument")                                     \
    X(nfile, 23, "ENFILE", "Too many open files in system")                        \
    X(mfile, 24, "EMFILE", "Too many open files")                                  \
    X(notty, 25, "ENOTTY", "Inappropriate ioctl for device")                       \
    X(txtbsy, 26, "ETXTBSY", "Text file busy")                                     \
    X(fbig, 27, "EFBIG", "File too large")                                         \
    X(nospc, 28, "ENOSPC", "No space left on device")                              \
    X(spipe, 29, "ESPIPE", "Illegal seek")                                         \
    X(rofs, 30, "EROFS", "Read-only file system")                                  \
    X(mlink, 31, "EMLINK", "Too many links")                                       \
    X(pipe, 32, "EPIPE", "Broken pipe")                                            \
    X(dom, 33, "EDOM", "Numerical argument out of domain")                         \
    X(range, 34, "ERANGE", "Numerical result out of range")                        \
    X(deadlk, 35, "EDEADLK", "Resource deadlock avoided")                          \
    X(nametoolong, 36, "ENAMETOOLONG", "File name too long")                       \
    X(nolck, 37, "ENOLCK", "No locks available")                                   \
    X(nosys, 38, "ENOSYS", "Function not implemented")                             \
    X(notempty, 39, "ENOTEMPTY", "Directory not empty")                            \
    X(loop, 40, "ELOOP", "Too many levels of symbolic links")                      \
    X(nomsg, 42, "ENOMSG", "No message of desired type")                           \
    X(idrm, 43, "EIDRM", "Identifier removed")                                     \
    X(nostr, 60, "ENOSTR", "Device not a stream")                                  \
    X(nodata, 61, "ENODATA", "No data available")                                  \
    X(time, 62, "ETIME", "Timer expired")                                          \
    X(nosr, 63, "ENOSR", "Out of streams resources")                               \
    X(nolink, 67, "ENOLINK", "Link has been severed")                              \
    X(proto, 71, "EPROTO", "Protocol error")                                       \
    X(multihop, 72, "EMULTIHOP", "Multihop attempted")                             \
    X(badmsg, 74, "EBADMSG", "Bad message")                                        \
    X(overflow, 75, "EOVERFLOW", "Value too large for defined data type")          \
    X(badfd, 77, "EBADFD", "File descriptor in bad state")                         \
    X(ilseq, 84, "EILSEQ", "Invalid or incomplete multibyte or wide character")    \
    X(restart, 85, "ERESTART", "Interrupted system call should be restarted")      \
    X(users, 87, "EUSERS", "Too many users")                                       \
    X(notsock, 88, "ENOTSOCK", "Socket operation on non-socket")                   \
    X(destaddrreq, 89, "EDESTADDRREQ", "Destination address required")             \
    X(msgsize, 90, "EMSGSIZE", "Message too long")                                 \
    X(prototype, 91, "EPROTOTYPE", "Protocol wrong type for socket")               \
    X(noprotoopt, 92, "ENOPROTOOPT", "Protocol not available")                     \
    X(protonosupport, 93, "EPROTONOSUPPORT", "Protocol not supported")             \
    X(socktnosupport, 94, "ESOCKTNOSUPPORT", "Socket type not supported")          \
    X(opnotsupp, 95, "EOPNOTSUPP", "Operation not supported")                      \
    X(pfnosupport, 96, "EPFNOSUPPORT", "Protocol family not supported")            \
    X(afnosupport, 97, "EAFNOSUPPORT", "Address family not supported by protocol") \
    X(addrinuse, 98, "EADDRINUSE", "Address already in use")                       \
    X(addrnotavail, 99, "EADDRNOTAVAIL", "Cannot assign requested address")        \
    X(netdown, 100, "ENETDOWN", "Network is down")                                 \
    X(netunreach, 101, "ENETUNREACH", "Network is unreachable")                    \
    X(netreset, 102, "ENETRESET", "Network dropped connection on reset")           \
    X(connaborted, 103, "ECONNABORTED", "Software caused connection abort")        \
    X(connreset, 104, "ECONNRESET", "Connection reset by peer")                    \
    X(nobufs, 105, "ENOBUFS", "No buffer space available")                         \
    X(isconn, 106, "EISCONN", "Transport endpoint is already connected")           \
    X(notconn, 107, "ENOTCONN", "Transport endpoint is not connected")             \
    X(shutdown, 108, "ESHUTDOWN", "Cannot send after transport endpoint shutdown") \
    X(toomanyrefs, 109, "ETOOMANYREFS", "Too many references: cannot splice")      \
    X(timedout, 110, "ETIMEDOUT", "Connection timed out")                          \
    X(connrefused, 111, "ECONNREFUSED", "Connection refused")                      \
    X(hostdown, 112, "EHOSTDOWN", "Host is down")                                  \
    X(hostunreach, 113, "EHOSTUNREACH", "No route to host")                        \
    X(already, 114, "EALREADY", "Operation already in progress")                   \
    X(inprogress, 115, "EINPROGRESS", "Operation now in progress")                 \
    X(stale, 116, "ESTALE", "Stale file handle")                                   \
    X(dquot, 122, "EDQUOT", "Disk quota exceeded")                                 \
    X(canceled, 125, "ECANCELED", "Operation canceled")                            \
    X(ownerdead, 130, "EOWNERDEAD", "Owner died")                                  \
    X(notrecoverable, 131, "ENOTRECOVERABLE", "State not recoverable")

/// A Linux errno value. Enumerators are lower-case so that they never collide with <errno.h>
/// macros; `Errno::nosys` is ENOSYS (38). The numbering is Linux's on every host.
enum class Errno : int {
#define LITEBOX_ERRNO_ENUM(name, number, symbol, message) name = number,
    LITEBOX_ERRNO_LIST(LITEBOX_ERRNO_ENUM)
#undef LITEBOX_ERRNO_ENUM
};

/// Linux aliases that share a number with another errno.
inline constexpr Errno errno_wouldblock = Errno::again;  // EWOULDBLOCK
inline constexpr Errno errno_notsup = Errno::opnotsupp;  // ENOTSUP
inline constexpr Errno errno_deadlock = Errno::deadlk;   // EDEADLOCK

/// The positive Linux number of an errno.
constexpr int errno_number(Errno e) noexcept { return static_cast<int>(e); }

/// "ENOENT"-style symbolic name, or "E?" for a value outside the table.
constexpr std::string_view errno_name(Errno e) noexcept {
    switch (e) {
#define LITEBOX_ERRNO_NAME(name, number, symbol, message) \
    case Errno::name:                                     \
        return symbol;
        LITEBOX_ERRNO_LIST(LITEBOX_ERRNO_NAME)
#undef LITEBOX_ERRNO_NAME
    }
    return "E?";
}

/// strerror-style text, or "Unknown error" for a value outside the table.
constexpr std::string_view errno_message(Errno e) noexcept {
    switch (e) {
#define LITEBOX_ERRNO_MESSAGE(name, number, symbol, message) \
    case Errno::name:                                        \
        return message;
        LITEBOX_ERRNO_LIST(LITEBOX_ERRNO_MESSAGE)
#undef LITEBOX_ERRNO_MESSAGE
    }
    return "Unknown error";
}

/// Converts a positive Linux errno number into `out`; returns false (and leaves `out` alone) for
/// a number outside the table, so that the caller decides what an unknown number means.
constexpr bool errno_from_number(int number, Errno& out) noexcept {
    switch (number) {
#define LITEBOX_ERRNO_FROM(name, num, symbol, message) \
    case num:                                          \
        out = Errno::name;                             \
        return true;
        LITEBOX_ERRNO_LIST(LITEBOX_ERRNO_FROM)
#undef LITEBOX_ERRNO_FROM
    }
    return false;
}

/// The outcome of a fallible operation: a T, or an Errno. Modelled on std::expected (C++23);
/// value() on an error is a programming bug and is caught by a debug check, not by an exception:
/// callers test has_value() (or use LITEBOX_TRY) first.
template <typename T>
class [[nodiscard]] Result {
    static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use Result<T*>");
    static_assert(!std::is_same_v<std::remove_cv_t<T>, Errno>, "Result<Errno> is ambiguous");

public:
    using value_type = T;

    Result(Errno e) noexcept : m_has_value(false) { m_error = e; }  // NOLINT: implicit by design

    template <typename U = T>
    requires std::is_constructible_v<T, U&&> &&
        (!std::is_same_v<std::remove_cvref_t<U>, Result>)&&(!std::is_same_v<std::remove_cvref_t<U>, Errno>)
            Result(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>)  // NOLINT: implicit
        : m_has_value(true) {
        ::new (static_cast<void*>(&m_value)) T(std::forward<U>(value));
    }

    Result(const Result& other) requires std::is_copy_constructible_v<T> : m_has_value(other.m_has_value) {
        if (m_has_value)
            ::new (static_cast<void*>(&m_value)) T(other.m_value);
        else
            m_error = other.m_error;
    }
    Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : m_has_value(other.m_has_value) {
        if (m_has_value)
            ::new (static_cast<void*>(&m_value)) T(std::move(other.m_value));
        else
            m_error = other.m_error;
    }
    Result& operator=(const Result& other) requires std::is_copy_constructible_v<T> {
        if (this != &other) {
            reset();
            construct_from(other);
        }
        return *this;
    }
    Result& operator=(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (this != &other) {
            reset();
            construct_from(std::move(other));
        }
        return *this;
    }
    ~Result() { reset(); }

    [[nodiscard]] constexpr bool has_value() const noexcept { return m_has_value; }
    constexpr explicit operator bool() const noexcept { return m_has_value; }

    [[nodiscard]] T& value() & noexcept { return m_value; }
    [[nodiscard]] const T& value() const& noexcept { return m_value; }
    [[nodiscard]] T&& value() && noexcept { return std::move(m_value); }
    T& operator*() & noexcept { return m_value; }
    const T& operator*() const& noexcept { return m_value; }
    T&& operator*() && noexcept { return std::move(m_value); }
    T* operator->() noexcept { return &m_value; }
    const T* operator->() const noexcept { return &m_value; }

    /// The error; only meaningful when !has_value().
    [[nodiscard]] constexpr Errno error() const noexcept { return m_has_value ? Errno{} : m_error; }

    template <typename U>
    [[nodiscard]] T value_or(U&& fallback) const& {
        return m_has_value ? m_value : static_cast<T>(std::forward<U>(fallback));
    }

    /// Applies f to the value (f returns a Result<U>), or propagates the error.
    template <typename F>
    auto and_then(F&& f) & -> std::invoke_result_t<F, T&> {
        if (m_has_value) return std::forward<F>(f)(m_value);
        return m_error;
    }
    /// Maps the value with f (f returns a plain U), or propagates the error.
    template <typename F>
    auto transform(F&& f) & -> Result<std::invoke_result_t<F, T&>> {
        if (m_has_value) return std::forward<F>(f)(m_value);
        return m_error;
    }

private:
    void reset() noexcept {
        if (m_has_value) m_value.~T();
        m_has_value = false;
        m_error = Errno::inval;
    }
    template <typename R>
    void construct_from(R&& other) {
        m_has_value = other.m_has_value;
        if (m_has_value)
            ::new (static_cast<void*>(&m_value)) T(std::forward<R>(other).m_value);
        else
            m_error = other.m_error;
    }

    union {
        T m_value;
        Errno m_error;
    };
    bool m_has_value;
};

/// Result<void>: success, or an Errno.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    constexpr Result() noexcept = default;
    constexpr Result(Errno e) noexcept : m_error(e), m_has_value(false) {}  // NOLINT: implicit

    [[nodiscard]] constexpr bool has_value() const noexcept { return m_has_value; }
    constexpr explicit operator bool() const noexcept { return m_has_value; }
    constexpr void value() const noexcept {}
    [[nodiscard]] constexpr Errno error() const noexcept { return m_has_value ? Errno{} : m_error; }

    template <typename F>
    auto and_then(F&& f) const -> std::invoke_result_t<F> {
        if (m_has_value) return std::forward<F>(f)();
        return m_error;
    }

private:
    Errno m_error{};
    bool m_has_value = true;
};

/// A successful Result<void>.
inline constexpr Result<void> ok() noexcept { return {}; }

}  // namespace litebox

#define LITEBOX_CONCAT_INNER(a, b) a##b
#define LITEBOX_CONCAT(a, b) LITEBOX_CONCAT_INNER(a, b)

/// Evaluates a Result expression; on error, returns the error from the enclosing function
/// (whose return type must be constructible from Errno). The value is discarded.
#define LITEBOX_TRY(expr)                                                       \
    do {                                                                        \
        auto&& litebox_try_result = (expr);                                     \
        if (!litebox_try_result.has_value()) return litebox_try_result.error(); \
    } while (false)

/// `LITEBOX_TRY_ASSIGN(auto fd, open(...));` declares (or assigns) the value of a Result, or
/// returns its error from the enclosing function.
#define LITEBOX_TRY_ASSIGN(lhs, expr)                                 \
    auto&& LITEBOX_CONCAT(litebox_try_result_, __LINE__) = (expr);    \
    if (!LITEBOX_CONCAT(litebox_try_result_, __LINE__).has_value())   \
        return LITEBOX_CONCAT(litebox_try_result_, __LINE__).error(); \
    lhs = std::move(LITEBOX_CONCAT(litebox_try_result_, __LINE__)).value()
