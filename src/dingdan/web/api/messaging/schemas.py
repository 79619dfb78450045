"""Bodies and answers of the message endpoints: the message log, templates, shop settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View


class Message(View):
    id: str
    order: str | None
    kind: str
    channel: str = Field(description="email")
    locale: str = Field(description="zh-Hant, zh-Hans or en")
    recipient: str
    subject: str
    status: str = Field(description="pending, sent, dead or not_configured")
    attempts: int
    last_error: str | None
    next_attempt_at: Timestamp | None
    created_at: Timestamp
    sent_at: Timestamp | None


class MessagePage(View):
    items: list[Message]
    next_cursor: Cursor


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(max_length=500)
    text: str = Field(max_length=50_000)
    html: str = Field(max_length=100_000)


class Template(View):
    kind: str
    locale: str
    subject: str
    text: str
    html: str
    is_default: bool
    updated_by: str | None
    updated_at: Timestamp | None
    variables: list[str]


class TemplateSummary(View):
    kind: str
    locale: str
    is_default: bool


class TemplateList(View):
    items: list[TemplateSummary]
    next_cursor: Cursor


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: str = Field(max_length=40, description="An order's number")
    subject: str | None = Field(None, max_length=500, description="A draft, not saved")
    text: str | None = Field(None, max_length=50_000)
    html: str | None = Field(None, max_length=100_000)


class Preview(View):
    kind: str
    locale: str
    order: str
    subject: str
    text: str
    html: str


class TestSendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(max_length=254)
    order: str | None = Field(None, max_length=40)


class Shop(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=100)
    logo_url: str = Field("", max_length=500, description="a logo elsewhere (http(s))")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    line_id: str = Field("", max_length=100, description="the shop's LINE ID, e.g. @dingdantea")
    address: str = Field("", max_length=300)
    color: str = Field("", max_length=7, description="#rrggbb, the shop's own colour")
    accent_color: str = Field("", max_length=7, description="#rrggbb")
    return_policy: str = Field("", max_length=2000)
    return_address: str = Field("", max_length=300)
    bank_name: str = Field("", max_length=100)
    bank_code: str = Field("", max_length=10)
    account_name: str = Field("", max_length=100)
    account_number: str = Field("", max_length=40)
    logo: str = Field(
        "",
        max_length=100,
        description="read only (ignored in a PUT): where Dingdan serves the logo uploaded"
        " to /api/v1/settings/shop/logo, or empty",
    )


class CustomerChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(max_length=10, description="email, line or sms")
    line_user_id: str | None = Field(None, max_length=64, description="With line: U and 32 hex")


class CustomerChannel(View):
    customer: str
    channel: str
    line_user_id: str | None


class LineProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel_access_token: str | None = Field(None, max_length=500)
    api_base: str | None = Field(None, max_length=500)


class SmsProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_sid: str | None = Field(None, max_length=100, description="Twilio's account SID")
    auth_token: str | None = Field(None, max_length=500)
    from_number: str | None = Field(None, max_length=40)
    api_base: str | None = Field(None, max_length=500)


class ProvidersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: LineProviderIn | None = None
    sms: SmsProviderIn | None = None


class LineProvider(View):
    channel_access_token: str = Field(description="shown as •••• once set")
    api_base: str
    configured: bool


class SmsProvider(View):
    account_sid: str
    auth_token: str = Field(description="shown as •••• once set")
    from_number: str
    api_base: str
    configured: bool


class Providers(View):
    line: LineProvider
    sms: SmsProvider
