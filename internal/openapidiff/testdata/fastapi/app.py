"""A FastAPI app that mirrors the probonus SDK's model of the ProBonus API, and variants of it.

gen.sh runs it under FastAPI 0.92 + Pydantic 1 (OpenAPI 3.0.2) and FastAPI 0.115 + Pydantic 2
(OpenAPI 3.1.0) and writes each variant's document beside it. It serves nothing: it only prints
app.openapi(). The code runs under both Pydantic generations, so it uses only what both have:
Field(alias=...), Optional, List, Union, str enums.

    python3 app.py VARIANT > VARIANT.json
"""

import enum
import json
import sys
import datetime as dt
from decimal import Decimal
from typing import List, Optional, Union

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import BaseModel, Field

VARIANT = sys.argv[1] if len(sys.argv) > 1 else "mirror"

# Each difference kind of the comparison, one variant each ("mirror" has none). A variant changes
# only what its name says, so a test reads exactly one difference (or one rename) from it.
VARIANTS = {
    "mirror",
    "missing-endpoint",  # fail: refill is not there
    "other-method",  # fail: update is PUT
    "query-renamed",  # fail: find_by_phone wants phoneNumber (a rename of phone)
    "query-required",  # fail: transactions requires count, which a period read leaves out
    "body-unknown",  # fail: NewAccount has no identifiers
    "body-renamed",  # fail: Refill has sum where the SDK sends amount
    "body-required",  # fail: Refill requires reason, which the SDK may leave out
    "body-kopecks",  # fail: Refill.amount is an integer
    "auth-header",  # fail: the API key header is X-Auth-Token
    "response-missing",  # warn: Account has no tags
    "response-renamed",  # warn: Account has bonusBalance where the SDK reads balance
    "response-type",  # warn: Transaction.id is a string
    "response-enum",  # warn: Transaction.type has other values
    "response-extra",  # info: Account has loyaltyCard
    "extra-endpoint",  # info: accounts/delete
    "tolerated",  # nothing: snake_case tokens, codes as strings, money as strings, extra optional request fields
    "several",  # what an installation might show: the variants of SEVERAL together
}
SEVERAL = {"query-required", "body-renamed", "body-required", "response-renamed", "response-enum", "response-extra", "extra-endpoint"}
if VARIANT not in VARIANTS:
    sys.exit("unknown variant " + VARIANT + "; one of " + ", ".join(sorted(VARIANTS)))


def has(v):
    return VARIANT == v or VARIANT == "several" and v in SEVERAL


Money = Decimal
Code = Union[int, str]
if has("tolerated"):
    Money = Union[str, Decimal]
    Code = str


class Gender(str, enum.Enum):
    male = "male"
    female = "female"


class IdentifierType(str, enum.Enum):
    card = "card"
    phone = "phone"
    other = "other"


if has("response-enum"):
    TransactionType = enum.Enum("TransactionType", {"accrual": "accrual", "payment": "payment", "refill": "refill"}, type=str)
else:
    TransactionType = enum.Enum("TransactionType", {v: v for v in [
        "check_accrual", "check_payment", "refill", "withdrawal", "burn", "deferred_accrual"]}, type=str)


class Login(BaseModel):
    login: str
    password: str


class RefreshTokenRequest(BaseModel):
    refreshToken: str


if has("tolerated"):
    class Token(BaseModel):
        access_token: str
        refresh_token: Optional[str] = None
        token_type: str = "bearer"
        expires_in: Optional[int] = None
else:
    class Token(BaseModel):
        accessToken: str
        refreshToken: Optional[str] = None
        tokenType: Optional[str] = Field(None, alias="tokenType")
        expiresIn: Optional[int] = None


class AccountGroup(BaseModel):
    id: int
    name: Optional[str] = None
    haveTemplate: bool = False
    parentId: Optional[int] = None


class Identifier(BaseModel):
    type: IdentifierType
    value: str


class Level(BaseModel):
    id: int
    name: Optional[str] = None
    discountPercent: Optional[Money] = None
    bonusPercent: Optional[Money] = None


class Coupon(BaseModel):
    id: int
    name: Optional[str] = None
    dishCode: Optional[Code] = None
    discountCode: Optional[Code] = None
    quantity: Optional[int] = None
    validUntil: Optional[dt.datetime] = None


new_account_fields = dict(
    accountId=(int, Field(..., description="the group the account is created in")),
    phone=(str, ...),
    firstName=(Optional[str], None),
    lastName=(Optional[str], None),
    middleName=(Optional[str], None),
    gender=(Optional[Gender], None),
    birthDate=(Optional[dt.date], None),
    email=(Optional[str], None),
    identifiers=(Optional[List[Identifier]], None),
)
if has("body-unknown"):
    del new_account_fields["identifiers"]
if has("tolerated"):
    new_account_fields["cardTemplate"] = (Optional[str], None)


class Account(BaseModel):
    id: int
    groupId: Optional[int] = None
    groupName: Optional[str] = None
    phone: Optional[str] = None
    phones: Optional[List[str]] = None
    email: Optional[str] = None
    firstName: Optional[str] = None
    lastName: Optional[str] = None
    middleName: Optional[str] = None
    gender: Optional[Gender] = None
    birthDate: Optional[dt.date] = None
    createdAt: Optional[dt.datetime] = None
    isBlocked: bool = False
    if has("response-renamed"):
        bonusBalance: Money = Decimal(0)
    else:
        balance: Money = Decimal(0)
    discountPercent: Optional[Money] = None
    level: Optional[Level] = Field(None, description="the account's loyalty level")
    coupons: List[Coupon] = []
    identifiers: List[Identifier] = []
    if not has("response-missing"):
        tags: List[str] = []
    if has("response-extra"):
        loyaltyCard: Optional[str] = None
    spentSumDay: Optional[Money] = None
    spentSumDiscountPeriod: Optional[Money] = None
    info: Optional[str] = None
    screenMessage: Optional[str] = None
    printMessage: Optional[str] = None


def model(name, fields):
    """A model from a dict of fields, under both Pydantic generations."""
    ns = {"__annotations__": {k: v[0] for k, v in fields.items()}}
    ns.update({k: v[1] for k, v in fields.items() if v[1] is not ...})
    return type(name, (BaseModel,), ns)


NewAccount = model("NewAccount", new_account_fields)

refill_fields = dict(
    accountId=(int, ...),
    amount=(Money, Field(..., description="bonuses to credit")),
    reason=(Optional[str], None),
    burnDate=(Optional[dt.date], None),
)
if has("body-renamed"):
    refill_fields = {("sum" if k == "amount" else k): v for k, v in refill_fields.items()}
if has("body-required"):
    refill_fields["reason"] = (str, ...)
if has("body-kopecks"):
    refill_fields["amount"] = (int, Field(..., description="kopecks"))
if has("tolerated"):
    refill_fields["comment"] = (Optional[str], None)
Refill = model("Refill", refill_fields)


class RefillResult(BaseModel):
    transactionId: int
    balance: Money


class AccountUpdate(BaseModel):
    accountId: int
    phone: Optional[str] = None
    email: Optional[str] = None
    firstName: Optional[str] = None
    lastName: Optional[str] = None
    middleName: Optional[str] = None
    gender: Optional[Gender] = None
    birthDate: Optional[dt.date] = None
    isBlocked: Optional[bool] = None
    info: Optional[str] = None
    screenMessage: Optional[str] = None
    printMessage: Optional[str] = None
    discountCode: Optional[Code] = None
    bonusTypeCode: Optional[Code] = None
    bonusLifetimeDays: Optional[int] = None
    # Not in the SDK's model: an extra optional request field, which Pydantic 2 splits Level into
    # Level-Input and Level-Output for (Decimal reads a number or a string, and writes a string).
    level: Optional[Level] = None


class Transaction(BaseModel):
    if has("response-type"):
        id: str
    else:
        id: int
    datetime: Optional[dt.datetime] = None
    type: Optional[TransactionType] = None
    sum: Money
    reason: Optional[str] = None
    checkId: Optional[int] = None
    checkNumber: Optional[Code] = None
    restaurantCode: Optional[Code] = None
    restaurantName: Optional[str] = None
    cashDesk: Optional[Code] = None
    identifierType: Optional[IdentifierType] = None
    identifier: Optional[str] = None


class Dish(BaseModel):
    code: Optional[Code] = None
    name: Optional[str] = None
    quantity: Money
    price: Money
    sum: Money
    discountSum: Optional[Money] = None


class Check(BaseModel):
    id: int
    number: Optional[Code] = None
    datetime: Optional[dt.datetime] = None
    restaurantCode: Optional[Code] = None
    restaurantName: Optional[str] = None
    cashDesk: Optional[Code] = None
    accountId: Optional[int] = None
    sum: Money
    discountSum: Optional[Money] = None
    bonusPaid: Optional[Money] = None
    bonusAccrued: Optional[Money] = None
    dishes: List[Dish] = []


class Tranche(BaseModel):
    sum: Money
    date: dt.date


class BalanceExtended(BaseModel):
    accountId: Optional[int] = None
    bonusBalance: Money
    bonusAwaitingIssue: Optional[Money] = None
    lateIssues: List[Tranche] = []
    burnings: List[Tranche] = []
    neverBurns: Optional[Money] = None


api_key = APIKeyHeader(name="X-Auth-Token" if has("auth-header") else "X-API-Key", auto_error=False)
bearer = HTTPBearer(auto_error=False)


def authenticated(key: Optional[str] = Depends(api_key), token=Depends(bearer)):
    return key or token


app = FastAPI(title="ProBonus", version="1.2.65.325")
open_routes = APIRouter(prefix="/api/v0")
api = APIRouter(prefix="/api/v0", dependencies=[Depends(authenticated)])


@open_routes.post("/auth/login", response_model=Token)
def login(body: Login):
    pass


@open_routes.post("/auth/refresh_token", response_model=Token)
def refresh_token(body: RefreshTokenRequest):
    pass


@api.get("/account_groups/list", response_model=List[AccountGroup])
def account_groups_list():
    pass


@api.post("/accounts/insert_by_template", response_model=Account)
def insert_by_template(body: NewAccount):
    pass


if has("query-renamed"):
    @api.get("/accounts/find_by_phone", response_model=Account)
    def find_by_phone(phoneNumber: str):
        pass
else:
    @api.get("/accounts/find_by_phone", response_model=Account)
    def find_by_phone(phone: str):
        pass


if not has("missing-endpoint"):
    @api.post("/accounts/refill", response_model=RefillResult)
    def refill(body: Refill):
        pass


if has("query-required"):
    @api.get("/accounts/transactions", response_model=List[Transaction])
    def transactions(accountId: int, count: int, dateFrom: Optional[dt.datetime] = None, dateTo: Optional[dt.datetime] = None):
        pass
else:
    @api.get("/accounts/transactions", response_model=List[Transaction])
    def transactions(accountId: int, dateFrom: Optional[dt.datetime] = None, dateTo: Optional[dt.datetime] = None,
                     count: Optional[int] = Query(None, ge=1, le=1000)):
        pass


if has("other-method"):
    @api.put("/accounts/update", response_model=Account)
    def update(body: AccountUpdate):
        pass
else:
    @api.post("/accounts/update", response_model=Account)
    def update(body: AccountUpdate):
        pass


@api.get("/accounts/get_balance_extended", response_model=BalanceExtended)
def get_balance_extended(accountId: int):
    pass


@api.get("/checks/get_by_id", response_model=Check)
def get_by_id(checkId: int):
    pass


if has("extra-endpoint"):
    class DeleteAccount(BaseModel):
        accountId: int

    @api.post("/accounts/delete")
    def delete(body: DeleteAccount):
        pass


app.include_router(open_routes)
app.include_router(api)

if __name__ == "__main__":
    json.dump(app.openapi(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
