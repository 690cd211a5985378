from __future__ import annotations

from django.urls import path, re_path

from channels_app.chat import api, views

app_name = "chat"

# The pages, under /chat/.
urlpatterns = [
    path("", views.chat_page, name="page"),
    path("login/", views.ChatLoginView.as_view(), name="login"),
    path("logout/", views.ChatLogoutView.as_view(), name="logout"),
]

# The REST API, under /api/v1/channels/chat/.
api_urlpatterns = [
    path("conversations", api.ConversationsView.as_view(), name="chat-conversations"),
    path(
        "conversations/<int:conversation_id>",
        api.ConversationView.as_view(),
        name="chat-conversation",
    ),
    re_path(
        r"^conversations/(?P<conversation_id>[0-9]+)/export/(?P<kind>markdown|json)$",
        api.ExportView.as_view(),
        name="chat-export",
    ),
    path("search", api.SearchView.as_view(), name="chat-search"),
    path("bookmarks", api.BookmarksView.as_view(), name="chat-bookmarks"),
    path("messages/<int:message_id>/bookmark", api.BookmarkView.as_view(), name="chat-bookmark"),
]
