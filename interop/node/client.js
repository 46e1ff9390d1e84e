// A Node client of IGBank's gRPC contract, written against
// proto/igbank/v1/bank.proto alone: @grpc/grpc-js, with the proto loaded
// at run time by @grpc/proto-loader (nothing generated). It runs one
// scenario against a server (the Connect server speaks gRPC too) and
// prints what it saw as one JSON object on stdout, for transports'
// TestForeignClients to check:
//
//   node client.js HOST:PORT ACCOUNT MONTH KEY PAGE_SIZE
//
// balance of ACCOUNT; its statement for MONTH read in pages of PAGE_SIZE;
// a deposit of 150 cents with idempotency key KEY and its replay; the
// balance of an account that does not exist (NOT_FOUND). Money is int64
// cents, printed as decimal strings. Exit 0 when every call answered as
// expected of the protocol, 1 otherwise (with the reason on stderr).
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [addr, account, month, key, pageSize] = process.argv.slice(2);
if (!pageSize) {
  console.error('usage: node client.js HOST:PORT ACCOUNT MONTH KEY PAGE_SIZE');
  process.exit(2);
}

const def = protoLoader.loadSync(path.join(__dirname, '..', '..', 'proto', 'igbank', 'v1', 'bank.proto'), {
  keepCase: true, // the proto's field names, as written
  longs: String, // int64 as decimal strings: no precision lost
  defaults: true,
});
const { BankService } = grpc.loadPackageDefinition(def).igbank.v1;
const client = new BankService(addr, grpc.credentials.createInsecure());

function call(method, req) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 10000);
    client[method](req, { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function main() {
  const out = {};
  out.balance = (await call('Balance', { account })).balance_cents;

  const ids = [];
  let token = '';
  let pages = 0;
  let opening;
  let closing;
  do {
    const page = await call('Statement', { account, month, page_size: Number(pageSize), page_token: token });
    pages++;
    opening = page.opening_cents;
    closing = page.closing_cents;
    for (const tx of page.transactions) ids.push(tx.id);
    token = page.next_page_token;
    if (typeof token !== 'string' || pages > 10000) throw new Error(`statement: page ${pages} has next_page_token ${token}`);
  } while (token !== '');
  out.statement = { pages, opening, closing, ids };

  const req = { account, amount_cents: '150', idempotency_key: key };
  const first = await call('Deposit', req);
  const again = await call('Deposit', req);
  out.deposit = { transaction_id: first.transaction_id, balance: first.balance_cents, replayed: first.replayed };
  out.replay = { transaction_id: again.transaction_id, balance: again.balance_cents, replayed: again.replayed };

  try {
    await call('Balance', { account: '999999999' });
    throw new Error('Balance of account 999999999 succeeded; want NOT_FOUND');
  } catch (err) {
    if (err.code !== grpc.status.NOT_FOUND) throw err;
    out.not_found = { code: 'NOT_FOUND', message: err.details };
  }
  return out;
}

main().then(
  (out) => {
    console.log(JSON.stringify(out));
    client.close();
  },
  (err) => {
    console.error(`node client: ${err.message || err}`);
    client.close();
    process.exit(1);
  },
);
