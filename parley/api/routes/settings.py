"""``GET`` and ``PATCH /v1/manage/settings``: the app's user settings (spec R.6).

The logic (the RFC 6902 patch, the known settings and their checks) is in
``parley.user_settings``; this only translates.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from parley import user_settings
from parley.api.deps import AppId, ServicesDep, json_limited
from parley.api.openapi import doc, errors, ref
from parley_client import wire

router = APIRouter(prefix="/v1/manage", tags=["management"])

MAX_BODY = 64 * 1024
Body = Annotated[Any, Depends(json_limited(MAX_BODY))]


@router.get(
    "/settings",
    response_model=wire.SettingsEnvelope,
    response_model_exclude_unset=True,
)
def get_settings(app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """Only the settings that were set; ``{"settings": {}}`` when none were."""
    return {"settings": user_settings.app_settings(services.storage, app_id)}


@router.patch(
    "/settings",
    response_model=wire.SettingsEnvelope,
    response_model_exclude_unset=True,
    responses=errors(413),
    openapi_extra=doc(
        body=wire.SettingsPatchOperation,
        body_schema={
            "type": "array",
            "minItems": 1,
            "maxItems": user_settings.MAX_OPERATIONS,
            "items": ref(wire.SettingsPatchOperation),
        },
    ),
)
def patch_settings(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """An RFC 6902 patch of the settings; answers the settings afterwards."""
    return {"settings": user_settings.patch_settings(services.storage, app_id, body)}
