// Punchthroughs: the single audit point for host operations that the other provider concepts do
// not cover (a host directory mount, for example).
//
// Contract: a punchthrough *operation* is a value type that names one extra host operation and
// carries its arguments. It declares `using Success = ...; using Failure = ...;` and a
// `static constexpr std::string_view name`. A platform lists the operations it understands as its
// `Punchthrough` type (one operation, or several composed with EitherPunchthrough). For a request
// it either returns no token (denied: the library then fails the guest's request cleanly) or a
// token whose `execute()` performs the operation exactly once. A platform must not perform any
// host work before it has decided to hand out a token, so that logging the decision audits the
// whole host interface. Punchthrough is not a security boundary by itself: the policy that decides
// which requests get a token is.
#pragma once

#include <concepts>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace litebox::platform {

/// Why an executed punchthrough did not succeed.
enum class PunchthroughErrorKind {
    unsupported,    // the platform does not know this operation at all
    unimplemented,  // known, but not implemented on this platform (yet)
    failure,        // attempted; the operation's own error is in failure()
};

template <typename Failure>
class PunchthroughError {
public:
    static constexpr PunchthroughError unsupported() noexcept { return PunchthroughError{PunchthroughErrorKind::unsupported}; }
    static constexpr PunchthroughError unimplemented() noexcept { return PunchthroughError{PunchthroughErrorKind::unimplemented}; }
    static constexpr PunchthroughError failed(Failure f) { return PunchthroughError{PunchthroughErrorKind::failure, std::move(f)}; }

    [[nodiscard]] constexpr PunchthroughErrorKind kind() const noexcept { return m_kind; }
    /// The operation's own error; present exactly when kind() == failure.
    [[nodiscard]] constexpr const std::optional<Failure>& failure() const noexcept { return m_failure; }

private:
    constexpr explicit PunchthroughError(PunchthroughErrorKind k, std::optional<Failure> f = std::nullopt)
        : m_kind(k), m_failure(std::move(f)) {}
    PunchthroughErrorKind m_kind;
    std::optional<Failure> m_failure;
};

/// What a token's execute() returns: the operation's Success value, or a PunchthroughError.
template <typename Success, typename Failure>
class [[nodiscard]] PunchthroughResult {
public:
    PunchthroughResult(Success s) : m_value(std::in_place_index<0>, std::move(s)) {}  // NOLINT
    PunchthroughResult(PunchthroughError<Failure> e) : m_value(std::in_place_index<1>, std::move(e)) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return m_value.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    [[nodiscard]] Success& value() & noexcept { return *std::get_if<0>(&m_value); }
    [[nodiscard]] const Success& value() const& noexcept { return *std::get_if<0>(&m_value); }
    [[nodiscard]] const PunchthroughError<Failure>& error() const noexcept { return *std::get_if<1>(&m_value); }

private:
    std::variant<Success, PunchthroughError<Failure>> m_value;
};

/// A punchthrough operation: names itself and declares its Success and Failure types.
template <typename Op>
concept PunchthroughOperation = std::movable<Op> && requires {
    typename Op::Success;
    typename Op::Failure;
    { Op::name } -> std::convertible_to<std::string_view>;
};

/// The empty set of operations: a platform that grants nothing declares
/// `using Punchthrough = NoPunchthrough;`. It cannot be constructed from any request.
struct NoPunchthrough {
    using Success = std::monostate;
    using Failure = std::monostate;
    static constexpr std::string_view name = "none";
};

/// Composes two sets of operations (the seed's `Either`). A request for an operation of either side
/// converts into the composition; Success and Failure are variants over both sides.
template <PunchthroughOperation A, PunchthroughOperation B>
class EitherPunchthrough {
public:
    using Success = std::variant<typename A::Success, typename B::Success>;
    using Failure = std::variant<typename A::Failure, typename B::Failure>;
    static constexpr std::string_view name = "either";

    EitherPunchthrough(A a) : m_op(std::in_place_index<0>, std::move(a)) {}  // NOLINT: implicit by design
    EitherPunchthrough(B b) : m_op(std::in_place_index<1>, std::move(b)) {}  // NOLINT: implicit by design
    template <typename Op>
        requires(!std::same_as<std::remove_cvref_t<Op>, EitherPunchthrough> &&
                 !std::same_as<std::remove_cvref_t<Op>, A> && !std::same_as<std::remove_cvref_t<Op>, B> &&
                 std::constructible_from<A, Op &&> && !std::constructible_from<B, Op &&>)
    EitherPunchthrough(Op&& op) : m_op(std::in_place_index<0>, A(std::forward<Op>(op))) {}  // NOLINT
    template <typename Op>
        requires(!std::same_as<std::remove_cvref_t<Op>, EitherPunchthrough> &&
                 !std::same_as<std::remove_cvref_t<Op>, A> && !std::same_as<std::remove_cvref_t<Op>, B> &&
                 !std::constructible_from<A, Op &&> && std::constructible_from<B, Op &&>)
    EitherPunchthrough(Op&& op) : m_op(std::in_place_index<1>, B(std::forward<Op>(op))) {}  // NOLINT

    [[nodiscard]] const A* first() const noexcept { return std::get_if<0>(&m_op); }
    [[nodiscard]] const B* second() const noexcept { return std::get_if<1>(&m_op); }
    [[nodiscard]] std::string_view operation_name() const noexcept { return first() ? A::name : B::name; }

private:
    std::variant<A, B> m_op;
};

namespace detail {
template <typename Set, typename Op>
struct ExtractPunchthrough;

template <typename Op>
struct ExtractPunchthrough<Op, Op> {
    static std::optional<typename Op::Success> success(typename Op::Success s) { return s; }
    static std::optional<typename Op::Failure> failure(typename Op::Failure f) { return f; }
};

template <typename A, typename B, typename Op>
    requires(!std::same_as<EitherPunchthrough<A, B>, Op>)
struct ExtractPunchthrough<EitherPunchthrough<A, B>, Op> {
    static constexpr bool in_a = std::constructible_from<A, Op>;
    using Side = std::conditional_t<in_a, A, B>;
    static constexpr std::size_t index = in_a ? 0 : 1;
    static std::optional<typename Op::Success> success(typename EitherPunchthrough<A, B>::Success s) {
        if (s.index() != index) return std::nullopt;
        return ExtractPunchthrough<Side, Op>::success(std::get<index>(std::move(s)));
    }
    static std::optional<typename Op::Failure> failure(typename EitherPunchthrough<A, B>::Failure f) {
        if (f.index() != index) return std::nullopt;
        return ExtractPunchthrough<Side, Op>::failure(std::get<index>(std::move(f)));
    }
};
}  // namespace detail

/// True when platform P's punchthrough set can carry a request of operation Op.
template <typename P, typename Op>
concept SupportsPunchthrough = PunchthroughOperation<Op> && requires { typename P::Punchthrough; } &&
                               std::constructible_from<typename P::Punchthrough, Op>;

/// Asks platform P for a token for `op` and, if granted, executes it.
/// Returns nullopt when the platform denied the request (no token), otherwise the typed outcome.
template <typename P, PunchthroughOperation Op>
    requires SupportsPunchthrough<P, Op>
std::optional<PunchthroughResult<typename Op::Success, typename Op::Failure>> request_punchthrough(const P& platform, Op op) {
    using Set = typename P::Punchthrough;
    using Extract = detail::ExtractPunchthrough<Set, Op>;
    auto token = platform.get_punchthrough_token_for(Set(std::move(op)));
    if (!token) return std::nullopt;
    auto outcome = std::move(*token).execute();
    if (outcome.has_value()) {
        auto s = Extract::success(std::move(outcome.value()));
        if (s) return PunchthroughResult<typename Op::Success, typename Op::Failure>(std::move(*s));
        return PunchthroughResult<typename Op::Success, typename Op::Failure>(
            PunchthroughError<typename Op::Failure>::unsupported());
    }
    const auto& err = outcome.error();
    switch (err.kind()) {
        case PunchthroughErrorKind::unsupported:
            return PunchthroughResult<typename Op::Success, typename Op::Failure>(PunchthroughError<typename Op::Failure>::unsupported());
        case PunchthroughErrorKind::unimplemented:
            return PunchthroughResult<typename Op::Success, typename Op::Failure>(PunchthroughError<typename Op::Failure>::unimplemented());
        case PunchthroughErrorKind::failure: break;
    }
    if (err.failure()) {
        auto f = Extract::failure(*err.failure());
        if (f) return PunchthroughResult<typename Op::Success, typename Op::Failure>(PunchthroughError<typename Op::Failure>::failed(std::move(*f)));
    }
    return PunchthroughResult<typename Op::Success, typename Op::Failure>(PunchthroughError<typename Op::Failure>::unsupported());
}

}  // namespace litebox::platform
