// Balance, a statement and a deposit with connect-web, once over the
// Connect protocol and once over gRPC-Web, against the server named in the
// query string. The results go into #result as JSON, and are posted to
// /result on the page's origin, where transports'
// TestBrowser reads them (chromium --dump-dom). int64 fields are bigints;
// they are written as decimal strings.
import { createClient, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { BankService } from "./bank_pb.js";

const q = new URLSearchParams(location.search);
const server = q.get("server") ?? "http://127.0.0.1:7006";
const account = q.get("account") ?? "000000001";
const month = q.get("month") ?? new Date().toISOString().slice(0, 7);
const key = q.get("key") ?? "browser-" + Date.now();

const transports = {
  connect: createConnectTransport({ baseUrl: server }),
  "grpc-web": createGrpcWebTransport({ baseUrl: server }),
};

async function scenario(transport, protocol) {
  const bank = createClient(BankService, transport);
  const out = {};
  const b = await bank.balance({ account });
  out.balance = String(b.balanceCents);
  const s = await bank.statement({ account, month, pageSize: 100 });
  out.statement = {
    opening: String(s.openingCents),
    closing: String(s.closingCents),
    ids: s.transactions.map((t) => String(t.id)),
  };
  const d = await bank.deposit({ account, amountCents: 150n, idempotencyKey: key + "-" + protocol });
  out.deposit = { transaction_id: String(d.transactionId), balance: String(d.balanceCents), replayed: d.replayed };
  try {
    await bank.balance({ account: "999999999" });
    out.not_found = { code: "none" };
  } catch (e) {
    const ce = ConnectError.from(e);
    out.not_found = { code: String(ce.code), message: ce.rawMessage };
  }
  return out;
}

const results = {};
for (const [protocol, transport] of Object.entries(transports)) {
  try {
    results[protocol] = await scenario(transport, protocol);
  } catch (e) {
    results[protocol] = { error: String(e) };
  }
}
const text = JSON.stringify(results, null, 2);
document.getElementById("result").textContent = text;
// And to the page's own origin, where a test waits for it (the DOM is for
// a reader; a test that dumps it cannot tell when the calls are over).
fetch("/result", { method: "POST", body: text }).catch(() => {});
