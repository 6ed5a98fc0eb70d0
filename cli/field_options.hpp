// Command-line options made from field rows (tilesim/fields.hpp): the row
// max_trace_records becomes --max-trace-records, with the row's description, unit and
// default as its help, the member's type as its value type, and the row's rule and
// plausible range checked on what the user gives. A command picks the rows it exposes.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "command.hpp"
#include "tilesim/fields.hpp"
#include "tilesim/input_file.hpp"

namespace tilesim::cli {

// "max_trace_records" -> "max-trace-records".
inline std::string option_name(std::string_view field_name) {
  std::string s(field_name);
  for (char& c : s)
    if (c == '_') c = '-';
  return s;
}

// Adds an option for each row of `table` named in `names` (a range of names). A flag is a switch
// that sets it; any other value takes an argument. `defaults` gives the default shown in the help.
template <class Table, class Struct, class Names>
void add_field_options(boost::program_options::options_description& opts, const Table& table,
                       const Struct& defaults, const Names& names) {
  namespace po = boost::program_options;
  for (std::string_view name : names) {
    const bool known = fields::visit(table, name, [&](const auto& f) {
      using Value = std::remove_cvref_t<decltype(f.of(defaults))>;
      const std::string option = option_name(f.name), unit(f.unit.symbol);
      if constexpr (std::is_same_v<Value, bool>) {
        opts.add_options()(option.c_str(), po::bool_switch(), std::string(f.doc).c_str());
      } else {
        const Value v = f.of(defaults);
        std::string shown;
        if constexpr (std::is_integral_v<Value>)
          shown = std::to_string(v);
        else
          shown = short_number(v);
        const std::string help = std::string(f.doc) + " (" + unit + ", default " + shown + ")";
        opts.add_options()(option.c_str(), po::value<Value>(), help.c_str());
      }
    });
    if (!known) throw std::logic_error("no field '" + std::string(name) + "' to make an option of");
  }
}

// Stores the options given on the command line in `s`; a value that breaks its row's
// rule or range is a UsageError naming the option.
template <class Table, class Names, class Struct>
void apply_field_options(const boost::program_options::variables_map& vm, const Table& table,
                         const Names& names, Struct& s) {
  for (std::string_view name : names) {
    fields::visit(table, name, [&](const auto& f) {
      using Value = std::remove_cvref_t<decltype(f.of(s))>;
      const std::string option = option_name(f.name);
      if (!vm.count(option) || vm[option].defaulted()) return;
      const Value v = vm[option].template as<Value>();
      if constexpr (std::is_same_v<Value, bool>) {
        if (!v) return;  // a switch not given
      }
      const std::string why = fields::check(f, static_cast<double>(v));
      if (!why.empty()) throw UsageError("--" + option + ": " + why);
      f.of(s) = v;
    });
  }
}

}  // namespace tilesim::cli
