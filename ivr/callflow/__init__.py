"""The phone call: Twilio's webhooks and the TwiML they answer.

``signature`` checks a webhook came from Twilio, ``fields`` parses its form, ``voice`` walks a
caller through the menu (``prompts``: what each screen says), ``agent`` is the call-takers'
line (911 first), ``status`` takes Twilio's call-status callbacks, ``twiml`` renders the answer.
Uses the menu, the app's state (``context``) and ``calllog``.
"""
