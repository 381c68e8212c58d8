"""Account error codes (408xxx, the range the spec reserves for the account service): the
credential rules a new user's name and password must meet. Each is a 422 in the usual
envelope, raised before anything is hashed or written."""

from __future__ import annotations

from kugelpos.common.errors import InvalidInputError
from kugelpos.common.messages import register_messages


class AccountErrorCode:
    PASSWORD_TOO_COMMON = "408001"
    PASSWORD_BLANK = "408002"
    USERNAME_INVALID_CHARACTERS = "408003"


class PasswordTooCommonError(InvalidInputError):
    code = AccountErrorCode.PASSWORD_TOO_COMMON


class PasswordBlankError(InvalidInputError):
    code = AccountErrorCode.PASSWORD_BLANK


class UsernameInvalidCharactersError(InvalidInputError):
    code = AccountErrorCode.USERNAME_INVALID_CHARACTERS


C = AccountErrorCode
register_messages(
    {
        C.PASSWORD_TOO_COMMON: {
            "en": "This password is too common; choose another",
            "ja": "このパスワードはよく使われているため使用できません",
        },
        C.PASSWORD_BLANK: {
            "en": "The password must not be only spaces",
            "ja": "空白だけのパスワードは使用できません",
        },
        C.USERNAME_INVALID_CHARACTERS: {
            "en": "The user name contains control or invisible characters",
            "ja": "ユーザー名に制御文字または不可視文字が含まれています",
        },
    }
)
