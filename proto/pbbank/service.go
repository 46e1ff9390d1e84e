package pbbank

import (
	"context"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/proto/igbankv1"
)

// Service adapts a bank.Bank to the methods of the generated BankService
// interfaces: grpc-go's igbankv1.BankServiceServer and connect-go's
// igbankv1connect.BankServiceHandler (generated with the "simple" option)
// have the same three methods. Each transport supplies WireError, which
// turns a bank error into its error form (Status for gRPC).
type Service struct {
	Bank      bank.Bank
	WireError func(error) error
}

// Balance serves igbank.v1.BankService/Balance.
func (s *Service) Balance(ctx context.Context, r *igbankv1.BalanceRequest) (*igbankv1.BalanceResponse, error) {
	m, err := s.Bank.Balance(ctx, bank.AccountNo(r.GetAccount()))
	if err != nil {
		return nil, s.WireError(err)
	}
	return &igbankv1.BalanceResponse{BalanceCents: int64(m)}, nil
}

// Statement serves igbank.v1.BankService/Statement.
func (s *Service) Statement(ctx context.Context, r *igbankv1.StatementRequest) (*igbankv1.StatementResponse, error) {
	st, err := s.Bank.Statement(ctx, StatementRequestFromProto(r))
	if err != nil {
		return nil, s.WireError(err)
	}
	return StatementToProto(st), nil
}

// Deposit serves igbank.v1.BankService/Deposit.
func (s *Service) Deposit(ctx context.Context, r *igbankv1.DepositRequest) (*igbankv1.DepositResponse, error) {
	rc, err := s.Bank.Deposit(ctx, DepositRequestFromProto(r))
	if err != nil {
		return nil, s.WireError(err)
	}
	return ReceiptToProto(rc), nil
}
