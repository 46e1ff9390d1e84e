// IGBank over Apache Thrift: the three calls of bank.Bank and one exception
// per bank error code (common/bank/errors.go). The Go code in
// gen/bankthrift is generated from this file by scripts/gen-thrift.
//
// Money is always i64 cents. Times are i64 Unix nanoseconds, UTC.

namespace go bankthrift

// A transaction of an account's ledger.
struct Transaction {
  1: i64 id
  2: i64 time_unix_nano
  3: i64 amount
  4: i64 balance_after
  // 1 to 255 characters from 0x21 to 0x7E (printable ASCII without the space).
  5: string idempotency_key
}

// One page of an account's activity over one month. opening and closing
// are the month's on every page; next_page_token is the page_token of the
// next page, "" (or absent, from an older server) on the last page.
struct Statement {
  1: string account
  2: string month
  3: i64 opening
  4: i64 closing
  5: list<Transaction> transactions
  6: string next_page_token
}

struct DepositRequest {
  1: string account
  2: i64 amount
  // 1 to 255 characters from 0x21 to 0x7E (printable ASCII without the space).
  3: string idempotency_key
}

struct DepositReceipt {
  1: i64 transaction_id
  2: i64 balance
  3: bool replayed
}

// What a server says of itself to health(), with the values and names of
// grpc.health.v1's ServingStatus: SERVING until its graceful shutdown has
// begun, NOT_SERVING after. A probe takes anything else, or a failure to
// call (the listener is closed once shutdown has begun), as not serving.
enum HealthStatus {
  SERVING = 1
  NOT_SERVING = 2
}

// One exception per bank.Code. Each carries the server's message, which a
// client shows but never parses.
exception NotFound { 1: string message }
exception InvalidArgument { 1: string message }
exception IdempotencyKeyReused { 1: string message }
exception InFlight { 1: string message }
exception Unavailable { 1: string message }
exception DeadlineExceeded { 1: string message }
exception Unauthenticated { 1: string message }
exception PermissionDenied { 1: string message }
exception Internal { 1: string message }
exception Canceled { 1: string message }

service Bank {
  i64 balance(1: string account) throws (
    1: NotFound not_found, 2: InvalidArgument invalid_argument,
    3: IdempotencyKeyReused idempotency_key_reused, 4: InFlight in_flight,
    5: Unavailable unavailable, 6: DeadlineExceeded deadline_exceeded,
    7: Unauthenticated unauthenticated, 8: PermissionDenied permission_denied,
    9: Internal internal, 10: Canceled canceled)

  // page_size and page_token came later than account and month: an older
  // client sends neither and gets the first page of 100. page_size 0 means
  // 100, above 1000 is served as 1000, negative is InvalidArgument;
  // page_token is "" for the first page or the previous page's
  // next_page_token.
  Statement statement(1: string account, 2: string month, 3: i32 page_size, 4: string page_token) throws (
    1: NotFound not_found, 2: InvalidArgument invalid_argument,
    3: IdempotencyKeyReused idempotency_key_reused, 4: InFlight in_flight,
    5: Unavailable unavailable, 6: DeadlineExceeded deadline_exceeded,
    7: Unauthenticated unauthenticated, 8: PermissionDenied permission_denied,
    9: Internal internal, 10: Canceled canceled)

  DepositReceipt deposit(1: DepositRequest request) throws (
    1: NotFound not_found, 2: InvalidArgument invalid_argument,
    3: IdempotencyKeyReused idempotency_key_reused, 4: InFlight in_flight,
    5: Unavailable unavailable, 6: DeadlineExceeded deadline_exceeded,
    7: Unauthenticated unauthenticated, 8: PermissionDenied permission_denied,
    9: Internal internal, 10: Canceled canceled)

  // Whether the server is serving. It needs no principal. A server older
  // than health() answers a TApplicationException UNKNOWN_METHOD.
  HealthStatus health()
}
