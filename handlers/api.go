package handlers

import "github.com/zeroloss/zeroloss/api"

// API is every operation of the contract: sends, transactions,
// subscriptions and pull consumption.
type API struct {
	*Messages
	*Transactions
	*Subscriptions
	*Pull
	*Stats
}

var _ api.StrictServerInterface = API{}
