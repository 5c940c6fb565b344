// What people type and paste, as the core reads it: group names matched loosely with a
// suggestion on a miss, cards and welcome tokens with whitespace inside, a welcome token that
// names its group, a removed member's list, and the backup passphrase checked on its own.

#include <doctest/doctest.h>

#include "kolokol/core/text_match.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

TEST_CASE("fold_loosely lowers case (Cyrillic too, under any locale) and drops whitespace") {
    CHECK(fold_loosely("Legal  Support") == "legalsupport");
    CHECK(fold_loosely(" LEGAL\tsupport\n") == "legalsupport");
    CHECK(fold_loosely("ШТАБ Москва") == "штабмосква");
    CHECK(fold_loosely("Ёлки\u00a0ГРУППА") == "ёлкигруппа");
    // Invalid UTF-8 is kept as it is, never dropped or merged into a neighbour.
    CHECK(fold_loosely("A\xff\xfe B") ==
          "a\xff\xfe"
          "b");
    CHECK(fold_loosely("") == "");
}

TEST_CASE("closest_name suggests one near name, nothing far or tied") {
    const std::vector<std::string> names{"Legal support", "Штаб", "Lawyers"};
    CHECK(closest_name("Legl suport", names) == std::optional<std::string>("Legal support"));
    CHECK(closest_name("штап", names) == std::optional<std::string>("Штаб"));
    CHECK(closest_name("legal", names) == std::optional<std::string>("Legal support"));
    CHECK_FALSE(closest_name("Weather", names).has_value());
    CHECK_FALSE(closest_name("", names).has_value());
    CHECK_FALSE(closest_name("ab", std::vector<std::string>{"abc1", "abc2"}).has_value());
}

TEST_CASE("resolve_group: exact name first, then case and spaces, then a suggestion") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto legal = *a->create_group("Legal support");
    auto staff = *a->create_group("Штаб");
    CHECK(a->resolve_group("Legal support") == legal);
    CHECK(a->resolve_group("legal support") == legal);
    CHECK(a->resolve_group("  LEGAL   SUPPORT ") == legal);
    CHECK(a->resolve_group("legalsupport") == legal);
    CHECK(a->resolve_group("штаб") == staff);

    auto miss = a->resolve_group("Legl suport");
    REQUIRE_FALSE(miss.has_value());
    CHECK(miss.error().code == CoreErrc::not_found);
    CHECK(miss.error().what() ==
          "no group called \"Legl suport\"; did you mean \"Legal support\"?");
    // The message keeps its pattern and arguments apart, for translation.
    CHECK(miss.error().pattern == "no group called \"{}\"; did you mean \"{}\"?");
    REQUIRE(miss.error().args.size() == 2);
    CHECK(miss.error().args[1].text == "Legal support");

    auto far = a->resolve_group("Weather");
    REQUIRE_FALSE(far.has_value());
    CHECK(far.error().what() == "no group called \"Weather\"");

    // An exact name wins over a loose one; two loose ones are refused.
    auto lower = *a->create_group("legal support");
    CHECK(a->resolve_group("legal support") == lower);
    CHECK(a->resolve_group("Legal support") == legal);
    auto both = a->resolve_group("LEGAL SUPPORT");
    REQUIRE_FALSE(both.has_value());
    CHECK(both.error().code == CoreErrc::bad_input);
}

TEST_CASE("cards and welcome tokens with line breaks and invisible spaces still read") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("Legal support");
    const auto card = card_to_text(b->card());
    std::string wrapped;
    for (std::size_t i = 0; i < card.size(); i += 20)
        wrapped += card.substr(i, 20) + (i % 40 ? "\r\n" : "\u00a0\u200b \n");
    REQUIRE(card_from_text(wrapped).has_value());
    CHECK(card_from_text(wrapped)->sign_key == b->card().sign_key);
    CHECK(compact_pasted(wrapped) == card);
    // Far more text than any card is refused before it is compacted.
    CHECK_FALSE(card_from_text(std::string(20000, ' ') + card).has_value());

    auto token = a->add_member(g, wrapped, false, false);
    REQUIRE(token.has_value());
    std::string spaced;
    for (std::size_t i = 0; i < token->size(); i += 50) spaced += token->substr(i, 50) + " \n";
    JoinedGroup joined;
    REQUIRE(b->join(compact_pasted(spaced), &joined).has_value());
    CHECK(joined.name == "Legal support");
    CHECK(joined.inviter == "Anna");
}

TEST_CASE("a removed member still lists the group, marked as no longer a member") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto g = *a->create_group("Legal support");
    REQUIRE(b->join(*a->add_member(g, card_to_text(b->card()), false, false)).has_value());
    deliver(*a, *b);
    REQUIRE(b->groups().size() == 1);
    CHECK(b->groups()[0].member);
    REQUIRE(a->remove_member(g, b->card().sign_key).has_value());
    deliver(*a, *b);
    REQUIRE(b->groups().size() == 1);
    CHECK_FALSE(b->groups()[0].member);
    CHECK(a->groups()[0].member);
}

TEST_CASE("the backup passphrase is checked alone, before a restore asks for anything else") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    const auto file = dir.path() / "anna.backup";
    const std::string_view pass = "the backup passphrase";
    REQUIRE(a->write_backup(file, as_bytes(pass), false).has_value());
    CHECK(Node::check_backup_passphrase(file, as_bytes(pass)).has_value());
    auto wrong = Node::check_backup_passphrase(file, as_bytes(std::string_view("wrong")));
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == CoreErrc::wrong_passphrase);
    auto missing = Node::check_backup_passphrase(dir.path() / "none", as_bytes(pass));
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == CoreErrc::not_found);
}
