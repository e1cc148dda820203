"""The ZStack REST client. It knows HTTP and ZStack; never Django requests or users."""
