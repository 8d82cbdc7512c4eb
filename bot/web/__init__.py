"""The dashboard (a Telegram Mini App): a read-only page and its JSON API, served by the bot's
own process on the same web server as the webhook (`server`); every API call is signed by
Telegram (`auth`); the answers come from `storage`, with the chat's visibility rules (`api`)."""
