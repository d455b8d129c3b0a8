#include "pipeline/expectations.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace strata {

const char* ExpectationActionName(ExpectationAction action) {
  switch (action) {
    case ExpectationAction::kWarn:
      return "warn";
    case ExpectationAction::kDrop:
      return "drop";
    case ExpectationAction::kFail:
      return "fail";
  }
  return "warn";
}

namespace {

constexpr const char* kSupported =
    "supported: col IS [NOT] NULL, col =|<>|<|<=|>|>= literal, col [NOT] IN (...), col [NOT] "
    "BETWEEN a AND b, length(col), AND, OR, NOT, parentheses";

enum class Tok : uint8_t { kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind;
  std::string text;  // identifier, unquoted string, operator
  int64_t num = 0;
  size_t offset = 0;
};

bool IsKeyword(const Token& t, const char* kw) {
  if (t.kind != Tok::kIdent || t.text.size() != std::char_traits<char>::length(kw)) return false;
  for (size_t i = 0; i < t.text.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(t.text[i])) != kw[i]) return false;
  return true;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kString:
      return "'" + t.text + "'";
    case Tok::kNumber:
      return std::to_string(t.num);
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kComma:
      return "','";
    case Tok::kEnd:
      return "the end";
    default:
      return "'" + t.text + "'";
  }
}

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  auto err = [&](const std::string& what) {
    return InvalidArgument(what + " at offset " + std::to_string(i));
  };
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t{Tok::kEnd, "", 0, i};
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
      t.kind = Tok::kIdent;
      t.text = std::string(s.substr(b, i - b));
    } else if (c == '\'') {
      ++i;
      t.kind = Tok::kString;
      while (true) {
        if (i >= s.size()) return err("unterminated string literal");
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            t.text.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        t.text.push_back(s[i++]);
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t b = i;
      if (c == '-') ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
        return err("only integer literals are supported");
      auto [p, ec] = std::from_chars(s.data() + b, s.data() + i, t.num);
      if (ec != std::errc() || p != s.data() + i) return err("integer literal out of range");
      t.kind = Tok::kNumber;
    } else if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      t.kind = Tok::kOp;
      t.text.push_back(c);
      ++i;
      if (i < s.size() && (s[i] == '=' || (c == '<' && s[i] == '>'))) t.text.push_back(s[i++]);
      if (t.text == "!") return err("'!' is not an operator (use <> or NOT)");
    } else if (c == '"' || c == '`') {
      return err("quoted identifiers are not supported");
    } else {
      return err(std::string("'") + c + "' is not supported (" + kSupported + ")");
    }
    out.push_back(std::move(t));
  }
  out.push_back(Token{Tok::kEnd, "", 0, s.size()});
  return out;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const Schema& schema, std::vector<Predicate::Node>* nodes)
      : toks_(std::move(tokens)), schema_(schema), nodes_(nodes) {}

  Result<int> ParseAll() {
    STRATA_ASSIGN_OR_RETURN(int root, ParseOr());
    if (Peek().kind != Tok::kEnd) return Unexpected("an operator (AND, OR)");
    return root;
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  const Token& Next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
  bool Accept(const char* kw) {
    if (!IsKeyword(Peek(), kw)) return false;
    ++pos_;
    return true;
  }
  Status Unexpected(const std::string& wanted) const {
    const Token& t = Peek();
    return InvalidArgument("expected " + wanted + " at offset " + std::to_string(t.offset) +
                           ", got " + Describe(t));
  }
  Status Unsupported(const Token& t, const std::string& what) const {
    return InvalidArgument(what + " (at offset " + std::to_string(t.offset) +
                           ") is not supported; " + kSupported);
  }
  int Add(Predicate::Node n) {
    nodes_->push_back(std::move(n));
    return static_cast<int>(nodes_->size() - 1);
  }
  int Binary(Predicate::Kind kind, int l, int r) {
    Predicate::Node n;
    n.kind = kind;
    n.left = l;
    n.right = r;
    return Add(std::move(n));
  }

  Result<int> ParseOr() {
    STRATA_ASSIGN_OR_RETURN(int l, ParseAnd());
    while (Accept("or")) {
      STRATA_ASSIGN_OR_RETURN(int r, ParseAnd());
      l = Binary(Predicate::Kind::kOr, l, r);
    }
    return l;
  }
  Result<int> ParseAnd() {
    STRATA_ASSIGN_OR_RETURN(int l, ParseNot());
    while (Accept("and")) {
      STRATA_ASSIGN_OR_RETURN(int r, ParseNot());
      l = Binary(Predicate::Kind::kAnd, l, r);
    }
    return l;
  }
  Result<int> ParseNot() {
    if (Accept("not")) {
      STRATA_ASSIGN_OR_RETURN(int c, ParseNot());
      return Binary(Predicate::Kind::kNot, c, -1);
    }
    return ParsePrimary();
  }

  // A literal of the operand's kind: a string for string values, an integer otherwise.
  Status Literal(bool want_string, std::string* s, int64_t* num) {
    const Token& t = Peek();
    if (want_string && t.kind == Tok::kString) {
      *s = t.text;
    } else if (!want_string && t.kind == Tok::kNumber) {
      *num = t.num;
    } else if (t.kind == Tok::kIdent && !IsKeyword(t, "null")) {
      return Unsupported(t, "comparing with column or name '" + t.text + "' (only literals)");
    } else if (IsKeyword(t, "null")) {
      return InvalidArgument("comparison with NULL at offset " + std::to_string(t.offset) +
                             " is never true: use IS NULL / IS NOT NULL");
    } else {
      return Unexpected(want_string ? "a string literal ('...')" : "an integer literal");
    }
    ++pos_;
    return Status::OK();
  }

  Result<int> ParsePrimary() {
    if (Peek().kind == Tok::kLParen) {
      ++pos_;
      STRATA_ASSIGN_OR_RETURN(int e, ParseOr());
      if (Peek().kind != Tok::kRParen) return Unexpected("')'");
      ++pos_;
      return e;
    }
    const Token& head = Peek();
    if (head.kind != Tok::kIdent) return Unexpected("a column name, length(column), NOT or '('");
    Predicate::Node leaf;
    std::string column = head.text;
    ++pos_;
    if (Peek().kind == Tok::kLParen) {
      Token fn = head;
      if (!IsKeyword(fn, "length")) return Unsupported(fn, "function '" + fn.text + "'");
      ++pos_;
      if (Peek().kind != Tok::kIdent) return Unexpected("a column name in length(...)");
      column = Peek().text;
      ++pos_;
      if (Peek().kind != Tok::kRParen) return Unexpected("')'");
      ++pos_;
      leaf.length = true;
    } else if (IsKeyword(head, "true") || IsKeyword(head, "false") || IsKeyword(head, "null")) {
      return Unsupported(head, "a bare literal " + head.text);
    }
    leaf.column = schema_.IndexOf(column);
    if (leaf.column < 0) {
      std::string names;
      for (const auto& f : schema_.fields()) names += (names.empty() ? "" : ", ") + f.name;
      return InvalidArgument("unknown column '" + column + "' at offset " +
                             std::to_string(head.offset) + " (columns: " + names + ")");
    }
    const TypeId type = schema_.field(leaf.column).type;
    const bool is_string = type == TypeId::kString;
    const bool is_int = type == TypeId::kInt32 || type == TypeId::kInt64;
    if (leaf.length && !is_string)
      return InvalidArgument("length(" + column + "): '" + column + "' is not a string column");

    if (Accept("is")) {
      if (leaf.length) return Unsupported(head, "length(...) IS NULL");
      leaf.kind = Predicate::Kind::kIsNull;
      leaf.negate = Accept("not");
      if (!Accept("null")) return Unexpected("NULL after IS [NOT]");
      return Add(std::move(leaf));
    }
    const bool want_string = is_string && !leaf.length;
    if (!want_string && !is_int && !leaf.length) {
      return InvalidArgument("comparisons on column '" + column + "' of type " +
                             DeltaTypeName(type) +
                             " are not supported (only string and integer columns; IS NULL "
                             "works on any)");
    }
    bool negate = Accept("not");
    if (Accept("in")) {
      leaf.kind = Predicate::Kind::kIn;
      leaf.negate = negate;
      if (Peek().kind != Tok::kLParen) return Unexpected("'(' after IN");
      ++pos_;
      do {
        std::string s;
        int64_t v = 0;
        STRATA_RETURN_IF_ERROR(Literal(want_string, &s, &v));
        if (want_string)
          leaf.strs.push_back(std::move(s));
        else
          leaf.nums.push_back(v);
      } while (Peek().kind == Tok::kComma && (++pos_, true));
      if (Peek().kind != Tok::kRParen) return Unexpected("',' or ')' in the IN list");
      ++pos_;
      std::sort(leaf.strs.begin(), leaf.strs.end());
      std::sort(leaf.nums.begin(), leaf.nums.end());
      return Add(std::move(leaf));
    }
    if (Accept("between")) {
      Predicate::Node lo = leaf, hi = leaf;
      lo.op = Predicate::Op::kGe;
      hi.op = Predicate::Op::kLe;
      lo.string_literal = hi.string_literal = want_string;
      STRATA_RETURN_IF_ERROR(Literal(want_string, &lo.str, &lo.num));
      if (!Accept("and")) return Unexpected("AND in BETWEEN");
      STRATA_RETURN_IF_ERROR(Literal(want_string, &hi.str, &hi.num));
      int both = Binary(Predicate::Kind::kAnd, Add(std::move(lo)), Add(std::move(hi)));
      return negate ? Binary(Predicate::Kind::kNot, both, -1) : both;
    }
    if (negate) return Unexpected("IN or BETWEEN after NOT");
    for (const char* kw : {"like", "ilike", "rlike", "regexp", "similar", "glob"})
      if (IsKeyword(Peek(), kw)) return Unsupported(Peek(), Peek().text);
    if (Peek().kind != Tok::kOp)
      return Unexpected("a comparison (=, <>, <, <=, >, >=), IS, IN or BETWEEN");
    const std::string op = Next().text;
    if (op == "=" || op == "==") {
      leaf.op = Predicate::Op::kEq;
    } else if (op == "<>" || op == "!=") {
      leaf.op = Predicate::Op::kNe;
    } else if (op == "<") {
      leaf.op = Predicate::Op::kLt;
    } else if (op == "<=") {
      leaf.op = Predicate::Op::kLe;
    } else if (op == ">") {
      leaf.op = Predicate::Op::kGt;
    } else if (op == ">=") {
      leaf.op = Predicate::Op::kGe;
    } else {
      return InvalidArgument("'" + op + "' is not a comparison operator");
    }
    leaf.string_literal = want_string;
    STRATA_RETURN_IF_ERROR(Literal(want_string, &leaf.str, &leaf.num));
    return Add(std::move(leaf));
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  const Schema& schema_;
  std::vector<Predicate::Node>* nodes_;
};

// out[r] = valid[r] && pred(value(r)) without a branch (a null slot holds a zero or empty value,
// so evaluating it is safe). CompareAll instantiates one loop per operator, so the operator's
// switch is outside the row loop.
template <typename Value, typename Pred>
void Fill(size_t n, const uint8_t* valid, Value value, Pred pred, uint8_t* out) {
  for (size_t r = 0; r < n; ++r) out[r] = valid[r] & static_cast<uint8_t>(pred(value(r)));
}

template <typename Value, typename T>
void CompareAll(Predicate::Op op, size_t n, const uint8_t* valid, Value value, const T& lit,
                uint8_t* out) {
  switch (op) {
    case Predicate::Op::kEq:
      return Fill(
          n, valid, value, [&](const T& v) { return v == lit; }, out);
    case Predicate::Op::kNe:
      return Fill(
          n, valid, value, [&](const T& v) { return v != lit; }, out);
    case Predicate::Op::kLt:
      return Fill(
          n, valid, value, [&](const T& v) { return v < lit; }, out);
    case Predicate::Op::kLe:
      return Fill(
          n, valid, value, [&](const T& v) { return v <= lit; }, out);
    case Predicate::Op::kGt:
      return Fill(
          n, valid, value, [&](const T& v) { return v > lit; }, out);
    case Predicate::Op::kGe:
      return Fill(
          n, valid, value, [&](const T& v) { return v >= lit; }, out);
  }
}

// Characters of a UTF-8 string: the bytes that do not continue a sequence.
int64_t Utf8Length(const char* p, size_t n) {
  int64_t chars = 0;
  for (size_t i = 0; i < n; ++i) chars += (static_cast<uint8_t>(p[i]) & 0xC0) != 0x80;
  return chars;
}

}  // namespace

// Three-valued result per row: t = TRUE, k = known (not NULL). t implies k.
struct Predicate::Truth {
  std::vector<uint8_t> t, k;
};

Result<Predicate> Predicate::Compile(std::string_view text, const SchemaPtr& schema) {
  Predicate p;
  p.text_ = std::string(text);
  p.schema_ = schema;
  STRATA_ASSIGN_OR_RETURN(auto tokens, Tokenize(text));
  if (tokens.size() == 1) return InvalidArgument("the predicate is empty");
  Parser parser(std::move(tokens), *schema, &p.nodes_);
  STRATA_ASSIGN_OR_RETURN(p.root_, parser.ParseAll());
  return p;
}

void Predicate::Evaluate(const RecordBatch& batch, std::vector<uint8_t>* pass) const {
  Truth t;
  Eval(root_, batch, &t);
  *pass = std::move(t.t);
}

void Predicate::Eval(int index, const RecordBatch& batch, Truth* out) const {
  const Node& node = nodes_[index];
  const size_t n = batch.num_rows();
  switch (node.kind) {
    case Kind::kAnd:
    case Kind::kOr: {
      Truth b;
      Eval(node.left, batch, out);
      Eval(node.right, batch, &b);
      uint8_t* at = out->t.data();
      uint8_t* ak = out->k.data();
      const uint8_t* bt = b.t.data();
      const uint8_t* bk = b.k.data();
      if (node.kind == Kind::kAnd) {
        // Known when both are known or either is known FALSE.
        for (size_t r = 0; r < n; ++r) {
          const uint8_t k = (ak[r] & bk[r]) | (ak[r] & (at[r] ^ 1)) | (bk[r] & (bt[r] ^ 1));
          at[r] &= bt[r];
          ak[r] = k;
        }
      } else {
        // Known when both are known or either is TRUE.
        for (size_t r = 0; r < n; ++r) {
          ak[r] = (ak[r] & bk[r]) | at[r] | bt[r];
          at[r] |= bt[r];
        }
      }
      return;
    }
    case Kind::kNot: {
      Eval(node.left, batch, out);
      uint8_t* t = out->t.data();
      const uint8_t* k = out->k.data();
      for (size_t r = 0; r < n; ++r) t[r] = k[r] & (t[r] ^ 1);
      return;
    }
    default:
      break;
  }
  const Column& col = batch.column(node.column);
  const uint8_t* valid = col.validity();
  out->t.resize(n);
  uint8_t* t = out->t.data();
  if (node.kind == Kind::kIsNull) {
    out->k.assign(n, 1);
    for (size_t r = 0; r < n; ++r) t[r] = (valid[r] == 0) != node.negate;
    return;
  }
  out->k.assign(valid, valid + n);
  const TypeId type = col.type();
  if (node.length || type == TypeId::kString) {
    const uint32_t* off = col.offsets();
    const char* chars = col.chars();
    if (node.length) {
      auto len = [&](size_t r) { return Utf8Length(chars + off[r], off[r + 1] - off[r]); };
      if (node.kind == Kind::kIn) {
        Fill(
            n, valid, len,
            [&](int64_t v) {
              return std::binary_search(node.nums.begin(), node.nums.end(), v) != node.negate;
            },
            t);
      } else {
        CompareAll(node.op, n, valid, len, node.num, t);
      }
      return;
    }
    auto str = [&](size_t r) { return std::string_view(chars + off[r], off[r + 1] - off[r]); };
    if (node.kind == Kind::kIn) {
      Fill(
          n, valid, str,
          [&](std::string_view v) {
            return std::binary_search(node.strs.begin(), node.strs.end(), v) != node.negate;
          },
          t);
    } else {
      CompareAll(node.op, n, valid, str, std::string_view(node.str), t);
    }
    return;
  }
  auto ints = [&](auto value) {
    if (node.kind == Kind::kIn) {
      Fill(
          n, valid, value,
          [&](int64_t v) {
            return std::binary_search(node.nums.begin(), node.nums.end(), v) != node.negate;
          },
          t);
    } else {
      CompareAll(node.op, n, valid, value, node.num, t);
    }
  };
  if (type == TypeId::kInt32) {
    const int32_t* d = col.int32_data();
    ints([d](size_t r) { return static_cast<int64_t>(d[r]); });
  } else {
    const int64_t* d = col.int64_data();
    ints([d](size_t r) { return d[r]; });
  }
}

Result<std::vector<Expectation>> CompileExpectations(const std::vector<ExpectationConfig>& configs,
                                                     const SchemaPtr& schema,
                                                     const std::string& key_prefix) {
  std::vector<Expectation> out;
  std::set<std::string> names;
  for (size_t i = 0; i < configs.size(); ++i) {
    const ExpectationConfig& c = configs[i];
    const std::string key = key_prefix + "[" + std::to_string(i) + "]";
    if (c.name.empty()) return InvalidArgument(key + ".name: must not be empty");
    if (!names.insert(c.name).second)
      return InvalidArgument(key + ".name: '" + c.name + "' is used by another expectation");
    ExpectationAction action;
    if (c.action == "warn") {
      action = ExpectationAction::kWarn;
    } else if (c.action == "drop") {
      action = ExpectationAction::kDrop;
    } else if (c.action == "fail") {
      action = ExpectationAction::kFail;
    } else {
      return InvalidArgument(key + ".action: '" + c.action + "' is not one of warn, drop, fail");
    }
    auto predicate = Predicate::Compile(c.expr, schema);
    if (!predicate.ok())
      return InvalidArgument(key + ".expr: " + predicate.status().message() + " in '" + c.expr +
                             "'");
    out.push_back({c.name, action, std::move(*predicate)});
  }
  return out;
}

}  // namespace strata
