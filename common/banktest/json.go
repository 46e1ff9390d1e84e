package banktest

// JSONInteger is one case of the JSON rule for integers that both JSON
// transports (rest-json and Connect's JSON) follow, so that the same body
// is accepted or refused on both (docs/architecture.md, "JSON bodies"): an
// integer, such as an amount of cents, is a JSON number with no fraction
// and no exponent, or a JSON string holding exactly such a number (proto3
// JSON's form of a 64-bit integer, which JavaScript clients send), within
// the field's range. Anything else is invalid_argument and changes nothing.
type JSONInteger struct {
	Literal string // the JSON value as it appears in the body
	Value   int64  // the integer it means, when OK
	OK      bool
}

// JSONIntegers are the cases each JSON transport's tests send as a
// deposit's amount.
var JSONIntegers = []JSONInteger{
	{`100`, 100, true},
	{`"100"`, 100, true},
	{`7`, 7, true},
	{`100.0`, 0, false},
	{`1e2`, 0, false},
	{`1E2`, 0, false},
	{`"1e2"`, 0, false},
	{`"100.0"`, 0, false},
	{`" 100"`, 0, false},
	{`"+100"`, 0, false},
	{`"0100"`, 0, false},
	{`""`, 0, false},
	{`"0x64"`, 0, false},
	{`"10\u0030"`, 0, false}, // escapes are not part of an integer
	{`9223372036854775808`, 0, false},
	{`"9223372036854775808"`, 0, false},
	{`true`, 0, false},
	{`null`, 0, false},
	{`[100]`, 0, false},
	{`{"cents":100}`, 0, false},
}
