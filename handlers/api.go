package handlers

import "github.com/zeroloss/zeroloss/api"

// API is every operation of the contract: sends, transactions and
// subscriptions.
type API struct {
	*Messages
	*Transactions
	*Subscriptions
	*Stats
}

var _ api.StrictServerInterface = API{}
