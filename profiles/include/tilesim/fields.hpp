// Field descriptors: one row per struct member with its name, unit, plausible range, rule
// and description. Loaders, printers, --help and calibration all read the rows, so that a
// new member needs one row beside its struct and nothing else (gem5's Params, declared
// once). Lives in the lowest library (profiles) so that every layer may use it.
//
//   inline constexpr auto kFields = std::array{
//       fields::field("hbm_efficiency", fields::member<&Consts::hbm_efficiency>, kRatio,
//                     fields::Rule::kPositive, "achievable / datasheet HBM bandwidth")};
//   fields::for_each(kFields, [&](const auto& f) { print(f.name, f.of(c), f.unit.symbol); });
//   const std::string why = fields::check(f, v);  // "" or "must be > 0, got 0"
//
// A table is a std::array when every member has one type, a std::tuple otherwise; the
// functions below take either.
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace tilesim::fields {

// A unit and the values a field in it may plausibly take (both ends inclusive). Outside
// them a value is a typo or a unit slip (MHz for GHz), refused with the range named.
struct Unit {
  std::string_view symbol;
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool integer = false;  // counts whole things (SMs, registers, records)
};

// A hard rule, checked before the plausible range and reported in its own words: a zero
// rate is wrong in kind, not in degree.
enum class Rule {
  kAny,
  kPositive,     // > 0: rates, clocks, latencies, divisors
  kNonNegative,  // >= 0: capacities a chip may lack (TMEM)
  kFlag,         // 0 or 1
};

// The way from a struct to one of its members, possibly through nested members
// (Profile -> clocks -> max_boost_mhz). Two plain functions, so that a row is a constant
// and reading a const struct needs no const_cast.
template <class Struct, class Value>
struct Access {
  Value& (*get)(Struct&);
  const Value& (*get_const)(const Struct&);
};

namespace detail {
template <class>
struct MemberPointer;
template <class Owner, class Type>
struct MemberPointer<Type Owner::*> {
  using owner = Owner;
  using type = Type;
};

template <auto... Path>
struct Chain;
template <auto Last>
struct Chain<Last> {
  using Root = typename MemberPointer<decltype(Last)>::owner;
  using Leaf = typename MemberPointer<decltype(Last)>::type;
  static constexpr Leaf& get(Root& s) { return s.*Last; }
  static constexpr const Leaf& get_const(const Root& s) { return s.*Last; }
};
template <auto First, auto Next, auto... Rest>
struct Chain<First, Next, Rest...> {
  using Tail = Chain<Next, Rest...>;
  using Root = typename MemberPointer<decltype(First)>::owner;
  using Leaf = typename Tail::Leaf;
  static constexpr Leaf& get(Root& s) { return Tail::get(s.*First); }
  static constexpr const Leaf& get_const(const Root& s) { return Tail::get_const(s.*First); }
};
}  // namespace detail

// member<&Profile::clocks, &Clocks::max_boost_mhz>: the access to p.clocks.max_boost_mhz.
template <auto... Path>
inline constexpr Access<typename detail::Chain<Path...>::Root,
                        typename detail::Chain<Path...>::Leaf>
    member{&detail::Chain<Path...>::get, &detail::Chain<Path...>::get_const};

template <class Struct, class Value>
struct Field {
  std::string_view name;  // key in files and output; "group.key" where the file nests it
  Access<Struct, Value> at;
  Unit unit;
  Rule rule = Rule::kAny;
  std::string_view doc;   // one line for --help, printed tables and JSON descriptions
  bool optional = false;  // a file may leave it out

  Value& of(Struct& s) const { return at.get(s); }
  const Value& of(const Struct& s) const { return at.get_const(s); }
};

inline constexpr bool kOptional = true;  // the last argument of field(), by name

// A row; the struct and value types come from the access.
template <class Struct, class Value>
constexpr Field<Struct, Value> field(std::string_view name, Access<Struct, Value> at, Unit unit,
                                     Rule rule, std::string_view doc, bool optional = false) {
  return {name, at, unit, rule, doc, optional};
}

// Calls fn(row) for every row, in table order.
template <class Table, class Fn>
constexpr void for_each(const Table& table, Fn&& fn) {
  std::apply([&](const auto&... row) { (fn(row), ...); }, table);
}

// Calls fn(row) for the row named `name`; false when there is none.
template <class Table, class Fn>
constexpr bool visit(const Table& table, std::string_view name, Fn&& fn) {
  return std::apply(
      [&](const auto&... row) { return ((row.name == name ? (fn(row), true) : false) || ...); },
      table);
}

template <class Table>
constexpr bool contains(const Table& table, std::string_view name) {
  return visit(table, name, [](const auto&) {});
}

// The two halves of a "group.key" name ("" and the name at top level).
constexpr std::string_view group_of(std::string_view name) {
  const auto dot = name.find('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}
constexpr std::string_view key_of(std::string_view name) {
  const auto dot = name.find('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// "" when v obeys the rule and lies in the unit's plausible range, else why not, in
// words that name the value, the range and the unit (not the field: the caller does).
std::string check(const Unit& unit, Rule rule, double v);
template <class Struct, class Value>
std::string check(const Field<Struct, Value>& f, double v) {
  return check(f.unit, f.rule, v);
}

// "double" | "int" | "bool", as printed beside a parameter.
template <class Value>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<Value, bool>)
    return "bool";
  else if constexpr (std::is_integral_v<Value>)
    return "int";
  else
    return "double";
}

// --- Checks that a table lists its struct: used in static_asserts beside the table. ---

namespace detail {
// Converts to any member type (declared only: used in unevaluated braces).
struct AnyMember {
  template <class T>
  constexpr operator T() const;
};
}  // namespace detail

// How many members the aggregate T has: the most initializers T{...} accepts.
template <class T, class... Inits>
constexpr std::size_t member_count() {
  if constexpr (requires { T{Inits{}..., detail::AnyMember{}}; }) {
    return member_count<T, Inits..., detail::AnyMember>();
  } else {
    return sizeof...(Inits);
  }
}

// Every row has its own name and its own member (two rows on one member would let a
// count match while another member has no row).
template <class Table>
constexpr bool rows_distinct(const Table& table) {
  bool distinct = true;
  for_each(table, [&](const auto& a) {
    int same_name = 0, same_member = 0;
    for_each(table, [&](const auto& b) {
      same_name += a.name == b.name ? 1 : 0;
      if constexpr (std::is_same_v<decltype(a), decltype(b)>)
        same_member += a.at.get == b.at.get ? 1 : 0;
    });
    distinct = distinct && same_name == 1 && same_member == 1;
  });
  return distinct;
}

template <class Table>
constexpr std::size_t row_count = std::tuple_size_v<Table>;

}  // namespace tilesim::fields
