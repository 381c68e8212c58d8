"""Account error codes (408xxx, the range the spec reserves for the account service): the
credential rules a new user's name and password must meet (each a 422 in the usual envelope,
raised before anything is hashed or written), and a tenant id that differs from an existing
one only in case (409: their databases would collide on a real MongoDB)."""

from __future__ import annotations

from kugelpos.common.errors import AlreadyExistsError, InvalidInputError


class AccountErrorCode:
    PASSWORD_TOO_COMMON = "408001"
    PASSWORD_BLANK = "408002"
    USERNAME_INVALID_CHARACTERS = "408003"
    TENANT_ID_CASE_CONFLICT = "408201"


class PasswordTooCommonError(InvalidInputError):
    code = AccountErrorCode.PASSWORD_TOO_COMMON
    messages = {
        "en": "This password is too common; choose another",
        "ja": "このパスワードはよく使われているため使用できません",
    }


class PasswordBlankError(InvalidInputError):
    code = AccountErrorCode.PASSWORD_BLANK
    messages = {
        "en": "The password must not be only spaces",
        "ja": "空白だけのパスワードは使用できません",
    }


class UsernameInvalidCharactersError(InvalidInputError):
    code = AccountErrorCode.USERNAME_INVALID_CHARACTERS
    messages = {
        "en": "The user name contains control or invisible characters",
        "ja": "ユーザー名に制御文字または不可視文字が含まれています",
    }


class TenantIdCaseConflictError(AlreadyExistsError):
    """The tenant id equals an existing one but for case: their databases would collide."""

    code = AccountErrorCode.TENANT_ID_CASE_CONFLICT
    messages = {
        "en": "A tenant with this id in another case already exists",
        "ja": "大文字・小文字だけが異なるテナントIDが既に存在します",
    }
