#include <catch2/catch.hpp>
#include <litebox/platform/concepts.hpp>
#include <litebox/platform/std/platform.hpp>

#include <string>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;

namespace {
struct ReadHostFile {
    using Success = std::string;
    using Failure = litebox::Errno;
    static constexpr std::string_view name = "read-host-file";
    std::string path;
};
struct GetHostName {
    using Success = std::string;
    using Failure = int;
    static constexpr std::string_view name = "get-host-name";
};
using Both = lp::EitherPunchthrough<ReadHostFile, GetHostName>;

/// Grants reads under /allowed and host-name requests; records every decision.
struct PolicyPlatform : lp::StdPlatform {
    using Punchthrough = Both;
    struct Token {
        Both request;
        lp::PunchthroughResult<Both::Success, Both::Failure> execute() && {
            if (const auto* read = request.first()) {
                if (read->path == "/allowed/missing") return lp::PunchthroughError<Both::Failure>::failed(Both::Failure(std::in_place_index<0>, litebox::Errno::noent));
                return Both::Success(std::in_place_index<0>, "contents of " + read->path);
            }
            return Both::Success(std::in_place_index<1>, "host");
        }
    };
    using PunchthroughToken = Token;
    mutable std::vector<std::string> audit;
    std::optional<Token> get_punchthrough_token_for(Both request) const {
        const bool grant = request.second() || request.first()->path.rfind("/allowed/", 0) == 0;
        audit.push_back(std::string(grant ? "grant " : "deny ") + std::string(request.operation_name()));
        if (!grant) return std::nullopt;
        return Token{std::move(request)};
    }
};
}  // namespace

TEST_CASE("Punchthrough sets compose and are audited", "[core][punchthrough]") {
    STATIC_REQUIRE(lp::PunchthroughProvider<PolicyPlatform>);
    STATIC_REQUIRE(lp::Provider<PolicyPlatform>);
    STATIC_REQUIRE(lp::SupportsPunchthrough<PolicyPlatform, ReadHostFile>);
    STATIC_REQUIRE(lp::SupportsPunchthrough<PolicyPlatform, GetHostName>);
    STATIC_REQUIRE_FALSE(lp::SupportsPunchthrough<lp::StdPlatform, ReadHostFile>);

    PolicyPlatform platform;
    auto granted = lp::request_punchthrough(platform, ReadHostFile{"/allowed/a"});
    REQUIRE(granted.has_value());
    REQUIRE(granted->has_value());
    CHECK(granted->value() == "contents of /allowed/a");

    auto denied = lp::request_punchthrough(platform, ReadHostFile{"/etc/shadow"});
    CHECK_FALSE(denied.has_value());

    auto failed = lp::request_punchthrough(platform, ReadHostFile{"/allowed/missing"});
    REQUIRE(failed.has_value());
    REQUIRE_FALSE(failed->has_value());
    CHECK(failed->error().kind() == lp::PunchthroughErrorKind::failure);
    CHECK(failed->error().failure() == std::optional(litebox::Errno::noent));

    auto host = lp::request_punchthrough(platform, GetHostName{});
    REQUIRE(host.has_value());
    CHECK(host->value() == "host");
    CHECK(platform.audit == std::vector<std::string>{"grant read-host-file", "deny read-host-file",
                                                     "grant read-host-file", "grant get-host-name"});
}

TEST_CASE("The deny-all punchthrough grants nothing", "[core][punchthrough]") {
    lp::StdPlatform platform;
    CHECK_FALSE(platform.get_punchthrough_token_for(lp::NoPunchthrough{}).has_value());
    CHECK_FALSE(lp::request_punchthrough(platform, lp::NoPunchthrough{}).has_value());
    auto token_result = lp::NoPunchthroughToken{}.execute();
    CHECK(token_result.error().kind() == lp::PunchthroughErrorKind::unsupported);
    std::array<std::byte, 16> buffer{};
    CHECK(platform.send_ip_packet(buffer).error() == litebox::Errno::netunreach);
    CHECK(platform.receive_ip_packet(buffer).error() == litebox::Errno::again);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
