package probonus

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCode(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C Code
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":12,"B":"0012","C":null}`), &v))
	assert.Equal(t, Code("12"), v.A)
	assert.Equal(t, Code("0012"), v.B, "a string keeps its leading zeros")
	assert.Equal(t, Code(""), v.C)
	assert.Error(t, json.Unmarshal([]byte(`{"A":true}`), &v))
	assert.Error(t, json.Unmarshal([]byte(`{"A":[1]}`), &v))
}

func TestEnumsKeepUnknownValues(t *testing.T) {
	t.Parallel()
	var tx Transaction
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"type":"cashback_v3","identifierType":"qr","sum":1}`), &tx))
	assert.Equal(t, TransactionType("cashback_v3"), tx.Type)
	assert.Equal(t, IdentifierType("qr"), tx.IdentifierType)
	b, err := json.Marshal(tx)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"type":"cashback_v3"`)
	assert.Contains(t, string(b), `"identifierType":"qr"`)
}

func TestAbsentAndNullDecodeAlike(t *testing.T) {
	t.Parallel()
	var absent, null Account
	require.NoError(t, json.Unmarshal([]byte(`{"id":1}`), &absent))
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"groupId":null,"phone":null,"phones":null,"birthDate":null,"createdAt":null,
		"isBlocked":null,"balance":null,"level":null,"coupons":null,"tags":null,"gender":null,"spentSumDay":null}`), &null))
	assert.Equal(t, absent, null)
	var unknown Account
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"loyaltyCard":{"x":1},"newField":[1,2]}`), &unknown), "unknown fields never fail")
	assert.Equal(t, int64(1), unknown.ID)
}

func TestPtr(t *testing.T) {
	t.Parallel()
	p := Ptr(false)
	require.NotNil(t, p)
	assert.False(t, *p)
	b, err := json.Marshal(AccountUpdate{AccountID: 1, IsBlocked: Ptr(false), FirstName: Ptr("")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"accountId":1,"isBlocked":false,"firstName":""}`, string(b), "false and empty are sent when set")
}
