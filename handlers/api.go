package handlers

import "github.com/zeroloss/zeroloss/api"

// API is every operation of the contract: sends and transactions.
type API struct {
	*Messages
	*Transactions
}

var _ api.StrictServerInterface = API{}
