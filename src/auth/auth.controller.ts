import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/app-error';
import { ErrorResponseDto } from '../common/error-response.dto';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { Public } from '../common/public.decorator';
import { AppConfig } from '../config/app-config';
import { ChangePasswordDto, LoginDto, TokenResponseDto, UserDto } from './auth.dto';
import { LoginThrottlerGuard } from './login-throttler.guard';
import { presentUser } from './user.presenter';
import { UsersService } from './users.service';

@ApiTags('Auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Post('login')
  @UseGuards(LoginThrottlerGuard)
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a username and password for a bearer token' })
  @ApiResponse({ status: 200, type: TokenResponseDto })
  @ApiResponse({ status: 400, description: 'Missing or malformed fields', type: ErrorResponseDto })
  @ApiResponse({ status: 401, description: 'Wrong username or password', type: ErrorResponseDto })
  @ApiResponse({ status: 429, description: 'Too many attempts; see Retry-After', type: ErrorResponseDto })
  async login(@Body() body: LoginDto): Promise<TokenResponseDto> {
    const user = await this.users.verifyCredentials(body.username, body.password);
    if (!user) throw new AppError('INVALID_CREDENTIALS', 'Invalid username or password');
    const expiresIn = Math.floor(this.config.get('JWT_EXPIRES_IN') / 1000);
    const access_token = await this.jwt.signAsync({ sub: user.id, username: user.username, role: user.role }, { expiresIn });
    return { access_token, token_type: 'bearer', expires_in: expiresIn };
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiResponse({ status: 200, type: UserDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto })
  async me(@CurrentUser() current: AuthUser): Promise<UserDto> {
    const user = await this.users.findById(current.id);
    if (!user) throw new AppError('UNAUTHENTICATED', 'The user of this token no longer exists');
    return presentUser(user);
  }

  @Post('change-password')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Change the signed-in user's password" })
  @ApiResponse({ status: 204, description: 'Changed' })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 401, description: 'Current password wrong or token invalid', type: ErrorResponseDto })
  async changePassword(@CurrentUser() current: AuthUser, @Body() body: ChangePasswordDto): Promise<void> {
    await this.users.changePassword(current.id, body.current_password, body.new_password);
  }
}
